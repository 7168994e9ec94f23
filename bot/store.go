package bot

import (
	"context"
	"time"

	"github.com/transfeed/transfeed/model"
)

// Store is what the Sender needs from the store, as five small views
// (*store.Store implements them all; signatures as in store/API.md).
type Store interface {
	Claims
	Outcomes
	ChannelStates
	Items
	SendSlots
}

// Claims leases due deliveries and hands them back untried.
type Claims interface {
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Delivery, error)
	ReleaseDelivery(ctx context.Context, id int64, next time.Time) error
}

// Outcomes records what became of a delivery that was tried.
type Outcomes interface {
	MarkDelivered(ctx context.Context, id int64, messageID int64, at time.Time) error
	MarkDeliveryRetry(ctx context.Context, id int64, reason string, next time.Time) error
	MarkDeliveryFailed(ctx context.Context, id int64, reason string) error
}

// ChannelStates keeps each channel's pause, retry_after and address.
type ChannelStates interface {
	GetChannelState(ctx context.Context, channel string) (model.ChannelState, error)
	SetChannelState(ctx context.Context, st model.ChannelState) error
}

// Items reads the post a delivery is for.
type Items interface {
	GetItem(ctx context.Context, id int64) (model.Item, error)
}

// SendSlots paces one destination across every instance on the database.
type SendSlots interface {
	// ReserveSend takes the destination's shared send slot (every instance
	// on the database), or says how long until it is free.
	ReserveSend(ctx context.Context, key string, now time.Time, minGap time.Duration) (bool, time.Duration, error)
}
