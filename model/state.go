package model

// State is where an item is in its lifecycle:
// StateNew → StateTranslating (only when its text needs translation) → StateReady.
type State string

// Item lifecycle states.
const (
	StateNew         State = "new"         // stored, not yet looked at by the translation stage
	StateTranslating State = "translating" // needs translation; waiting, in progress or retrying
	StateReady       State = "ready"       // visible in feeds and site; deliveries created
	// StatePreview marks the posts `preview` shows; never stored.
	StatePreview State = "preview"
)

// Valid reports whether s is one of the item states.
func (s State) Valid() bool {
	switch s {
	case StateNew, StateTranslating, StateReady:
		return true
	}
	return false
}

// DeliveryState is where one (item, channel) delivery is.
type DeliveryState string

// Delivery states: pending → sent (message id kept) | failed (permanent error).
const (
	DeliveryPending DeliveryState = "pending"
	DeliverySent    DeliveryState = "sent"
	DeliveryFailed  DeliveryState = "failed"
)

// PollStatus is the outcome of one poll of a source. Its value is what the
// store records and /status shows as JSON; String is the words people read.
type PollStatus string

// Poll outcomes.
const (
	PollOK          PollStatus = "ok"
	PollNotModified PollStatus = "not_modified"
	PollError       PollStatus = "error"
	// PollSkipped: another instance polled the source, or it was not due.
	// Reported, never stored.
	PollSkipped PollStatus = "skipped"
	// PollNever: the source has not been polled yet. Shown, never stored.
	PollNever PollStatus = "never polled"
)

// String is the status as people read it ("not modified").
func (s PollStatus) String() string {
	if s == PollNotModified {
		return "not modified"
	}
	return string(s)
}

// OnFailure is what happens to a post whose translation keeps failing past
// translation.hold_for.
type OnFailure string

// OnFailure policies.
const (
	OnFailureHold     OnFailure = "hold"     // keep waiting for a translation
	OnFailureOriginal OnFailure = "original" // publish the original, marked untranslated
)

// Valid reports whether p is one of the policies.
func (p OnFailure) Valid() bool { return p == OnFailureHold || p == OnFailureOriginal }

// ReviewState is where a post held for review (telegram.channels[].review)
// is for one channel.
type ReviewState string

// Review states: waiting → approved (sent by the outbox) | skipped (never sent).
const (
	ReviewWaiting  ReviewState = "waiting"
	ReviewApproved ReviewState = "approved"
	ReviewSkipped  ReviewState = "skipped"
)
