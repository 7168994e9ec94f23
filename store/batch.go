package store

import (
	"context"
	"database/sql"
	"sync"
)

// writeFunc is one caller's part of a write transaction. It may run twice:
// in a transaction shared with other callers' writes and, when that one
// fails, again in a transaction of its own; so it sets its results from
// scratch each time, and keeps them only when it returns nil.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

// write runs fn in a write transaction (with the search index step, as
// inTx). On SQLite, which has one writer, the polls' writes share
// transactions (group commit, see writeBatcher); posts is how many posts fn
// stores, which bounds a shared transaction. On PostgreSQL fn gets a
// transaction of its own.
func (s *Store) write(ctx context.Context, posts int, fn writeFunc) error {
	if s.d.name != DriverSQLite {
		return s.inTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	return s.writes.do(ctx, s, &writeRequest{ctx: ctx, posts: posts, fn: fn})
}

// writeStmts returns the queries (rebound) prepared once on the write pool,
// for fn of write to bind with tx.StmtContext. Call it outside a transaction.
func (s *Store) writeStmts(ctx context.Context, queries ...string) ([]*sql.Stmt, error) {
	out := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		st, err := s.stmts.get(ctx, s.w, s.d.rebind(q))
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// writeRequest is one call of Store.write waiting in a writeBatcher.
type writeRequest struct {
	ctx   context.Context // the caller's, for a transaction of its own
	posts int
	fn    writeFunc
	err   error
	done  bool // err is final (guarded by writeBatcher.mu)
}

// writeBatcher is SQLite's group commit: a call queues its request and
// waits for the write turn; the call that gets the turn writes every
// request queued by then (up to maxBatchItems posts) in one transaction, so
// the per-transaction costs (begin and commit, the search index step,
// counters) and the hand-offs of the one write connection are paid once for
// many polls instead of once for each of their writes (a poll's lease, its
// posts and its record). When that transaction fails, each of its requests
// runs again in a transaction of its own, with its caller's context, so
// that one request's error is its own. (A request written in another
// call's batch is written under that call's context: a caller cancelled
// while it waits may find its write done, as a poll whose shutdown began
// would.) The zero value is ready.
type writeBatcher struct {
	turn  sync.Mutex // held while a batch is written
	mu    sync.Mutex // guards queue and the requests' results
	queue []*writeRequest
}

// maxBatchItems bounds the posts one group-commit transaction writes (a
// request larger than that is written alone). It is flushBatch, so that the
// search index step of the transaction indexes all of them.
const maxBatchItems = flushBatch

func (b *writeBatcher) do(ctx context.Context, s *Store, req *writeRequest) error {
	b.mu.Lock()
	b.queue = append(b.queue, req)
	b.mu.Unlock()
	b.turn.Lock()
	defer b.turn.Unlock()
	b.mu.Lock()
	if req.done {
		b.mu.Unlock()
		return req.err
	}
	// Take the queue in order, up to maxBatchItems posts (always this
	// call's own request, which is in it).
	var batch []*writeRequest
	n, mine := 0, false
	for len(b.queue) > 0 && (len(batch) == 0 || n+b.queue[0].posts <= maxBatchItems || !mine) {
		r := b.queue[0]
		b.queue = b.queue[1:]
		batch = append(batch, r)
		n += r.posts
		mine = mine || r == req
	}
	b.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range batch {
			if err := r.fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		// Each on its own: the error is one request's (or this call's
		// context's), not the others'.
		for _, r := range batch {
			r.err = s.inTx(r.ctx, func(tx *sql.Tx) error { return r.fn(r.ctx, tx) })
		}
	} else {
		for _, r := range batch {
			r.err = err
		}
	}
	b.mu.Lock()
	for _, r := range batch {
		r.done = true
	}
	b.mu.Unlock()
	return req.err
}
