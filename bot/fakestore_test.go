package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
)

// fakeStore is an in-memory store with the outbox semantics of store/API.md.
// It fails the test when a sent delivery is marked again (a double send) or
// put back to pending.
type fakeStore struct {
	t *testing.T

	mu         sync.Mutex
	items      map[int64]model.Item
	deliveries map[int64]*model.Delivery
	nextID     int64
	states     map[string]model.ChannelState
	meta       map[string]string
	sources    []model.Source
	pacing     map[string]time.Time // chat → next free send slot
	leaders    map[string]fakeLease
}

type fakeLease struct {
	owner string
	until time.Time
}

var (
	_ SenderStore = (*fakeStore)(nil)
	_ AdminStore  = (*fakeStore)(nil)
)

func newFakeStore(t *testing.T) *fakeStore {
	return &fakeStore{
		t:          t,
		items:      map[int64]model.Item{},
		deliveries: map[int64]*model.Delivery{},
		nextID:     1,
		states:     map[string]model.ChannelState{},
		meta:       map[string]string{},
		pacing:     map[string]time.Time{},
		leaders:    map[string]fakeLease{},
	}
}

// addReady stores a ready item and one pending delivery per channel, as
// store.MarkReady does.
func (f *fakeStore) addReady(it model.Item, channels []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it.State = model.StateReady
	f.items[it.ID] = it
	for _, ch := range channels {
		id := f.nextID
		f.nextID++
		f.deliveries[id] = &model.Delivery{ID: id, ItemID: it.ID, Channel: ch, State: model.DeliveryPending, CreatedAt: time.Now()}
	}
}

func (f *fakeStore) snapshot() []model.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []model.Delivery
	for _, d := range f.deliveries {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b model.Delivery) int { return int(a.ID - b.ID) })
	return out
}

func (f *fakeStore) countState(state model.DeliveryState) int {
	n := 0
	for _, d := range f.snapshot() {
		if d.State == state {
			n++
		}
	}
	return n
}

func (f *fakeStore) ClaimDeliveries(_ context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int64, 0, len(f.deliveries))
	for id := range f.deliveries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []model.Delivery
	for _, id := range ids {
		if len(out) >= limit {
			break
		}
		d := f.deliveries[id]
		if d.State != model.DeliveryPending || d.NextAttemptAt.After(now) {
			continue
		}
		if d.LeaseOwner != "" && d.LeaseUntil.After(now) {
			continue
		}
		st := f.states[d.Channel]
		if st.Paused || st.PausedUntil.After(now) {
			continue
		}
		d.LeaseOwner, d.LeaseUntil = owner, now.Add(lease)
		out = append(out, *d)
	}
	return out, nil
}

func (f *fakeStore) get(id int64) (*model.Delivery, error) {
	d, ok := f.deliveries[id]
	if !ok {
		return nil, fmt.Errorf("store: delivery %d: %w", id, model.ErrNotFound)
	}
	return d, nil
}

func (f *fakeStore) MarkDelivered(_ context.Context, id int64, messageID int64, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.get(id)
	if err != nil {
		return err
	}
	if d.State != model.DeliveryPending {
		f.t.Errorf("fakestore: delivery %d marked delivered while %s (sent twice?)", id, d.State)
	}
	d.State, d.MessageID, d.SentAt, d.LeaseOwner, d.LeaseUntil = model.DeliverySent, messageID, at, "", time.Time{}
	return nil
}

func (f *fakeStore) MarkDeliveryRetry(_ context.Context, id int64, reason string, next time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.get(id)
	if err != nil {
		return err
	}
	if d.State != model.DeliveryPending {
		f.t.Errorf("fakestore: delivery %d put back for retry while %s", id, d.State)
		return nil
	}
	d.Attempts++
	d.Error, d.NextAttemptAt, d.LeaseOwner, d.LeaseUntil = reason, next, "", time.Time{}
	return nil
}

func (f *fakeStore) MarkDeliveryFailed(_ context.Context, id int64, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.get(id)
	if err != nil {
		return err
	}
	if d.State == model.DeliverySent {
		f.t.Errorf("fakestore: delivery %d marked failed after it was sent", id)
	}
	d.State, d.Error, d.LeaseOwner, d.LeaseUntil = model.DeliveryFailed, reason, "", time.Time{}
	return nil
}

func (f *fakeStore) RetryFailedDeliveries(_ context.Context, channel string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.deliveries {
		if d.State == model.DeliveryFailed && (channel == "" || d.Channel == channel) {
			d.State, d.NextAttemptAt, d.Error = model.DeliveryPending, time.Time{}, ""
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) DeliveryBacklogs(context.Context) ([]model.DeliveryBacklog, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]*model.DeliveryBacklog{}
	for _, d := range f.deliveries {
		b, ok := m[d.Channel]
		if !ok {
			b = &model.DeliveryBacklog{Channel: d.Channel}
			m[d.Channel] = b
		}
		switch d.State {
		case model.DeliveryPending:
			b.Pending++
		case model.DeliverySent:
			b.Sent++
		case model.DeliveryFailed:
			b.Failed++
		}
	}
	var out []model.DeliveryBacklog
	for _, b := range m {
		out = append(out, *b)
	}
	return out, nil
}

func (f *fakeStore) GetItem(_ context.Context, id int64) (model.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.items[id]
	if !ok {
		return model.Item{}, fmt.Errorf("store: item %d: %w", id, model.ErrNotFound)
	}
	return it, nil
}

func (f *fakeStore) GetChannelState(_ context.Context, channel string) (model.ChannelState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.states[channel]
	st.Channel = channel
	return st, nil
}

func (f *fakeStore) SetChannelState(_ context.Context, st model.ChannelState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st.Channel == "" {
		f.t.Errorf("fakestore: SetChannelState without a channel")
	}
	f.states[st.Channel] = st
	return nil
}

func (f *fakeStore) ListChannelStates(context.Context) ([]model.ChannelState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []model.ChannelState
	for _, st := range f.states {
		out = append(out, st)
	}
	return out, nil
}

func (f *fakeStore) ListSources(context.Context, time.Time) ([]model.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sources), nil
}

func (f *fakeStore) GetMeta(_ context.Context, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.meta[key], nil
}

func (f *fakeStore) SetMeta(_ context.Context, key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.meta[key] = value
	return nil
}

func (f *fakeStore) ReleaseDelivery(_ context.Context, id int64, next time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.get(id)
	if err != nil {
		return err
	}
	if d.State == model.DeliveryPending {
		d.NextAttemptAt = next
	}
	d.LeaseOwner, d.LeaseUntil = "", time.Time{}
	return nil
}

func (f *fakeStore) ReserveSend(_ context.Context, channel string, now time.Time, minGap time.Duration) (bool, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if next := f.pacing[channel]; next.After(now) {
		return false, next.Sub(now), nil
	}
	f.pacing[channel] = now.Add(minGap)
	return true, 0, nil
}

func (f *fakeStore) ClaimLeader(_ context.Context, name, owner string, now time.Time, lease time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.leaders[name]
	if cur.owner != owner && cur.until.After(now) {
		return false, nil
	}
	f.leaders[name] = fakeLease{owner: owner, until: now.Add(lease)}
	return true, nil
}

func (f *fakeStore) ReleaseLeader(_ context.Context, name, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leaders[name].owner == owner {
		delete(f.leaders, name)
	}
	return nil
}
