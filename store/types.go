package store

import (
	"time"

	"github.com/transfeed/transfeed/model"
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = model.ErrNotFound

// UpsertResult tells what UpsertItems did.
type UpsertResult struct {
	New       []int64 // ids of items stored for the first time
	Updated   []int64 // ids whose content hash changed (originals replaced, state back to model.StateNew)
	Ready     []int64 // of New and Updated, those stored ready at once (UpsertOptions.Ready)
	Unchanged int
}

// ItemQuery selects stored items, newest Published first.
type ItemQuery struct {
	SourceIDs []string      // empty: every source
	States    []model.State // empty: every state
	Limit     int           // 0: 50
	Before    time.Time
	// BeforeID, with Before, is a keyset cursor: items strictly older than
	// the item (Before, BeforeID) in (Published, ID) order ("older" pages).
	BeforeID int64
	// Since keeps items published at or after it (archives).
	Since  time.Time
	Offset int
}
