package store

import (
	"time"

	"github.com/transfeed/transfeed/model"
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = model.ErrNotFound

// The domain types live in package model; these aliases keep the store's
// callers compiling while they move to model.
type (
	Item            = model.Item
	Translation     = model.Translation
	TMEntry         = model.TMEntry
	Usage           = model.Usage
	ProviderState   = model.ProviderState
	Source          = model.Source
	PollResult      = model.PollResult
	Delivery        = model.Delivery
	ChannelState    = model.ChannelState
	DeliveryBacklog = model.DeliveryBacklog
	State           = model.State
	DeliveryState   = model.DeliveryState
	PollStatus      = model.PollStatus
)

// States, as aliases of model's constants.
const (
	StateNew         = model.StateNew
	StateTranslating = model.StateTranslating
	StateReady       = model.StateReady
	DeliveryPending  = model.DeliveryPending
	DeliverySent     = model.DeliverySent
	DeliveryFailed   = model.DeliveryFailed
	PollOK           = model.PollOK
	PollNotModified  = model.PollNotModified
	PollError        = model.PollError
)

// UpsertResult tells what UpsertItems did.
type UpsertResult struct {
	New       []int64 // ids of items stored for the first time
	Updated   []int64 // ids whose content hash changed (originals replaced, state back to StateNew)
	Unchanged int
}

// ItemQuery selects stored items, newest Published first.
type ItemQuery struct {
	SourceIDs []string      // empty: every source
	States    []model.State // empty: every state
	Limit     int           // 0: 50
	Before    time.Time
	Offset    int
}
