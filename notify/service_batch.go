package notify

import (
	"context"
	"fmt"
	"time"
)

// BatchConfig bounds group commit (database.batch_max_rows,
// database.batch_max_wait and database.committers; their defaults are in
// config.Default). The zero BatchConfig commits each call in a
// transaction of its own, one transaction at a time.
type BatchConfig struct {
	// MaxRows: the committer stops collecting once a batch holds this many
	// rows; 0 or less: one call per batch. A NotifyMany call is never
	// split, so a batch may hold more: the rows of a call are committed
	// together or not at all.
	MaxRows int
	// MaxWait: how long after the first queued call the committer may
	// wait for more before committing; 0 commits what is queued at once.
	// It waits only while fewer rows are queued than the previous batch
	// had (see batcher.collect).
	MaxWait time.Duration
	// Committers: how many batches may be in their transaction at once;
	// 1 or less: one. A batch that shares a user's stripe with one in
	// flight waits for it (Service.begin), so per-user order is commit
	// order whatever the number.
	Committers int
}

// insert queues items for group commit and waits for the outcome
// (batcher.insert).
func (s *Service) insert(ctx context.Context, items []NewItem, idem *Idempotency) ([]Inserted, ClaimOutcome, error) {
	return s.batch.insert(ctx, items, idem)
}

// Close stops s from taking new notifications (they fail with
// EUNAVAILABLE), waits until those already queued are committed, pushed
// and answered, then stops the catch-up of failed inserts (settle.go), or
// until ctx ends.
func (s *Service) Close(ctx context.Context) error {
	err := s.batch.drain(ctx)
	if serr := s.settle.close(ctx); serr != nil && err == nil {
		err = fmt.Errorf("notify: close: %w", serr)
	}
	return err
}

// drain stops the batcher taking calls and waits for its collector and
// every batch in flight.
func (b *batcher) drain(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	if b.busy == 0 {
		b.mu.Unlock()
		return nil
	}
	// Made here rather than each time the collector starts (at a steady
	// rate, for nearly every call): only a drain waits for it.
	if b.idle == nil {
		b.idle = make(chan struct{})
	}
	idle := b.idle
	b.mu.Unlock()
	b.signal() // a collector waiting for more hands off at once
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("notify: close: %w", ctx.Err())
	}
}

// begin locks the stripes of a batch's users and returns the function
// that commits it (Service.commit) and unlocks them. The collector calls
// it in collection order, so of two batches of one user the earlier one
// commits and pushes first, and no two batches of one user are ever in
// their transactions at once: per user, id order is commit order is push
// order, with any number of committers.
func (s *Service) begin(batch []*insertRequest) func() {
	// The items of a batch of one call, the usual batch at a steady rate,
	// are that call's: nothing else uses them once queued.
	items := batch[0].items
	if len(batch) > 1 {
		items = nil
		for _, req := range batch {
			items = append(items, req.items...)
		}
	}
	// Taken before the transaction, as SetRead, MarkAllRead and Delete
	// do: a change committed meanwhile for one of these users cannot
	// reach a socket ahead of the notification it changes. A batch naming
	// an external id not seen yet locks every stripe: its user may be
	// created by the transaction, with an id known only after it.
	var unlock func()
	if s.resolveUsers(items) {
		users := make([]int64, len(items))
		for i, it := range items {
			users[i] = it.UserID
		}
		unlock = s.lockUsers(users...)
	} else {
		unlock = s.lockAllUsers()
	}
	return func() { s.commit(batch, items, unlock) }
}

// commit stores a batch (its items, in order) in one transaction, pushes
// the committed rows in id order, unlocks the stripes begin locked and
// answers every call of the batch. The transaction does not use the callers' contexts:
// once a batch has started, its outcome is everyone's. The store bounds
// it with database.query_timeout. A failure fails every call of the batch
// and pushes nothing; its users are marked unsettled, since the rows may
// commit all the same (settle.go).
func (s *Service) commit(batch []*insertRequest, items []NewItem, unlock func()) {
	var claims []Claim
	off := 0
	for _, req := range batch {
		if req.idem != nil {
			claims = append(claims, Claim{Idempotency: *req.idem, First: off, Count: len(req.items)})
		}
		off += len(req.items)
	}

	start := time.Now()
	for _, req := range batch {
		s.hub.cfg.Observer.BatchWaited(start.Sub(req.at))
	}
	rows, outcomes, err := s.store.InsertBatch(context.Background(), items, claims, s.now())
	s.hub.cfg.Observer.BatchStored(time.Since(start))
	if err == nil && (len(rows) != len(items) || len(outcomes) != len(claims)) {
		err = fmt.Errorf("store returned %d rows for %d notifications, %d outcomes for %d keys", len(rows), len(items), len(outcomes), len(claims))
	}
	if err == nil {
		s.external.learn(items, rows)
	}
	users := make([]int64, 0, len(rows))
	for i, it := range items {
		if it.UserID != 0 {
			users = append(users, it.UserID)
		} else if err == nil {
			users = append(users, rows[i].UserID)
		}
	}
	if err != nil {
		// Nothing proves that nothing was stored: the transaction may
		// still commit once the database answers again.
		s.settle.unsettle(users)
	} else {
		s.push(s.settle.beforePush(rows))
	}
	unlock()

	// Each answer is the last use of its request: its caller may reuse it
	// for its next call as soon as it is received (batcher.release).
	off, claim := 0, 0
	for _, req := range batch {
		if err != nil {
			req.done <- insertResult{err: err}
			continue
		}
		n := len(req.items)
		res := insertResult{rows: rows[off : off+n : off+n]}
		if req.idem != nil {
			res.outcome = outcomes[claim]
			claim++
		}
		off += n
		req.done <- res
	}
}
