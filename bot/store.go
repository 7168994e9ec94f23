package bot

import (
	"context"
	"time"

	"github.com/transfeed/transfeed/model"
)

// SenderStore is what the Sender needs from the store (*store.Store
// implements it; signatures as in store/API.md).
type SenderStore interface {
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Delivery, error)
	MarkDelivered(ctx context.Context, id int64, messageID int64, at time.Time) error
	MarkDeliveryRetry(ctx context.Context, id int64, reason string, next time.Time) error
	MarkDeliveryFailed(ctx context.Context, id int64, reason string) error
	ReleaseDelivery(ctx context.Context, id int64, next time.Time) error
	// ReserveSend takes the chat's shared send slot (every instance on the
	// database), or says how long until it is free.
	ReserveSend(ctx context.Context, channel string, now time.Time, minGap time.Duration) (bool, time.Duration, error)
	GetItem(ctx context.Context, id int64) (model.Item, error)
	GetChannelState(ctx context.Context, channel string) (model.ChannelState, error)
	SetChannelState(ctx context.Context, st model.ChannelState) error
}

// AdminStore is what the admin commands need from the store (*store.Store
// implements it).
type AdminStore interface {
	ListSources(ctx context.Context, now time.Time) ([]model.Source, error)
	DeliveryBacklogs(ctx context.Context) ([]model.DeliveryBacklog, error)
	ListChannelStates(ctx context.Context) ([]model.ChannelState, error)
	GetChannelState(ctx context.Context, channel string) (model.ChannelState, error)
	SetChannelState(ctx context.Context, st model.ChannelState) error
	RetryFailedDeliveries(ctx context.Context, channel string) (int, error)
	GetMeta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	// ClaimLeader and ReleaseLeader keep the admin long-polling to one
	// instance among those sharing the database.
	ClaimLeader(ctx context.Context, name, owner string, now time.Time, lease time.Duration) (bool, error)
	ReleaseLeader(ctx context.Context, name, owner string) error
}
