package server

import "time"

// TelegramState is what this instance knows of its Telegram connection.
type TelegramState struct {
	Up      bool
	Checked bool      // false: the first check has not answered yet
	Reason  string    // why Telegram is down (token redacted)
	Since   time.Time // when the current state began
	NextTry time.Time // down: when the next check runs
}

// TelegramHealth reports the Telegram connection for /status. The daemon
// implements it; without one (Telegram off, or a test) /status shows none.
type TelegramHealth interface {
	TelegramState() TelegramState
}

// SetTelegramHealth makes /status report h. Call it before serving.
func (s *Server) SetTelegramHealth(h TelegramHealth) { s.telegram = h }

// The states of the Telegram connection on /status ("state" in the JSON).
const (
	telegramUp         = "up"
	telegramDown       = "down"
	telegramConnecting = "connecting" // the first check has not answered yet
)

// telegramStatus is the Telegram connection on /status.
type telegramStatus struct {
	State   string     `json:"state"` // "up" | "down" | "connecting"
	Reason  string     `json:"reason,omitempty"`
	Since   *time.Time `json:"since,omitempty"`
	NextTry *time.Time `json:"next_try,omitempty"`

	SinceCST, NextTryCST string `json:"-"`
}

func (s *Server) telegramStatus() *telegramStatus {
	if s.telegram == nil {
		return nil
	}
	st := s.telegram.TelegramState()
	out := &telegramStatus{State: telegramConnecting, Since: timePtr(st.Since), SinceCST: s.cst(st.Since)}
	switch {
	case st.Up:
		out.State = telegramUp
	case st.Checked:
		out.State, out.Reason = telegramDown, st.Reason
		out.NextTry, out.NextTryCST = timePtr(st.NextTry), s.cst(st.NextTry)
	}
	return out
}
