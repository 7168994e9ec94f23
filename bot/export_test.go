package bot

import "context"

// Pace waits for the pacing of channel key's lane, as one send does.
func Pace(ctx context.Context, s *Sender, key string) error {
	return s.pace(ctx, s.lanes[key])
}
