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
	done  bool          // err is final (guarded by writeBatcher.mu)
	wake  chan struct{} // told once: done, or this call writes the next batch
}

// writeBatcher is SQLite's group commit: a call queues its request; when no
// batch is being written it writes one itself, else it waits until it is
// told its request was written or that it writes the next batch. A batch is
// every request queued by then (up to maxBatchItems posts, the writer's own
// first) in one transaction, so the per-transaction costs (begin and commit,
// the search index step, counters) and the hand-offs of the one write
// connection are paid once for many polls instead of once for each of their
// writes (a poll's lease, its posts and its record). When that transaction
// fails, each of its requests runs again in a transaction of its own, with
// its caller's context, so that one request's error is its own. (A request
// written in another call's batch is written under that call's context: a
// caller cancelled while it waits may find its write done, as a poll whose
// shutdown began would.)
//
// The writer tells each caller of its batch, and the caller first in the
// queue after it, at once: a waiting caller never has to run before the
// next batch can start (waiting on one mutex instead, each finished caller
// had to take and pass it on in turn, so a batch of twenty waited for
// twenty goroutine switches before the next began). The zero value is
// ready.
type writeBatcher struct {
	mu      sync.Mutex // guards all below and the requests' results
	queue   []*writeRequest
	writing bool // a batch is being written, or its writer was told to start
}

// maxBatchItems bounds the posts one group-commit transaction writes (a
// request larger than that is written alone). It is flushBatch, so that the
// search index step of the transaction indexes all of them.
const maxBatchItems = flushBatch

func (b *writeBatcher) do(ctx context.Context, s *Store, req *writeRequest) error {
	req.wake = make(chan struct{}, 1)
	b.mu.Lock()
	b.queue = append(b.queue, req)
	if b.writing {
		b.mu.Unlock()
		<-req.wake
		b.mu.Lock()
		if req.done {
			b.mu.Unlock()
			return req.err
		}
	}
	// This call writes: its request is first in the queue. Take the queue
	// in order, up to maxBatchItems posts.
	b.writing = true
	var batch []*writeRequest
	n := 0
	for len(b.queue) > 0 && (len(batch) == 0 || n+b.queue[0].posts <= maxBatchItems) {
		batch = append(batch, b.queue[0])
		n += b.queue[0].posts
		b.queue = b.queue[1:]
	}
	b.mu.Unlock()
	// The batch's statements run without ctx's cancellation, which is
	// checked before each request instead: under a context that can end,
	// the SQLite driver starts a goroutine to watch it for every statement
	// (each post's insert, index delete and index insert: some 5 % of a
	// cold import's CPU). A write is bounded all the same, by busy_timeout.
	wctx := context.WithoutCancel(ctx)
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		for _, r := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := r.fn(wctx, tx); err != nil {
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
		if r != req {
			r.wake <- struct{}{}
		}
	}
	b.mu.Unlock()
	b.passOn()
	return req.err
}

// passOn ends a batch: the first caller still queued writes the next one.
func (b *writeBatcher) passOn() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.writing = false
		return
	}
	b.queue[0].wake <- struct{}{}
}
