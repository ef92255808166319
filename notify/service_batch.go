package notify

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. A database commits a few thousand single-row transactions
// per second but tens of thousands of rows per second in multi-row
// INSERTs, so concurrent Notify and NotifyMany calls are queued and one
// committer goroutine stores them together: one transaction, one INSERT
// per chunk, one doorbell in cluster mode. The committer runs only while
// there is work: the first call that finds it stopped starts it, and it
// stops when the queue is empty, so an idle Service holds no goroutine.

// BatchConfig bounds group commit (database.batch_max_rows and
// database.batch_max_wait; their defaults are in config.Default). The zero
// BatchConfig, which a Service has until SetBatchLimits, commits each call
// in a transaction of its own.
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
}

// SetBatchLimits replaces the group-commit limits, which are the zero
// BatchConfig (no group commit) after NewService. Call it before s is
// used.
func (s *Service) SetBatchLimits(c BatchConfig) { s.batch.init(c) }

// The states of a queued request: the committer takes it into a batch, or
// its caller gives up first. Whichever moves it out of queued decides.
const (
	reqQueued int32 = iota
	reqTaken
	reqDropped
)

// insertRequest is one Notify or NotifyMany call waiting for the committer.
type insertRequest struct {
	ctx   context.Context
	items []NewItem
	idem  *Idempotency // nil: no idempotency key
	at    time.Time    // when it was queued
	state atomic.Int32
	done  chan insertResult // buffered: the committer never blocks on it
}

type insertResult struct {
	rows    []Inserted
	outcome ClaimOutcome // with idem: whether its key was claimed
	err     error
}

// batcher is the queue of the committer and its state.
type batcher struct {
	cfg BatchConfig

	mu      sync.Mutex
	queue   []*insertRequest
	rows    int           // rows in queue
	last    int           // rows of the previous batch
	running bool          // the committer goroutine is running
	stopped chan struct{} // closed when that committer stops
	closed  bool          // Close was called: take nothing new

	// wake tells a waiting committer that the queue is full or that the
	// service is closing.
	wake chan struct{}
}

func (b *batcher) init(c BatchConfig) {
	c.MaxWait = max(c.MaxWait, 0)
	b.cfg = c
	b.wake = make(chan struct{}, 1)
}

// insert queues items for the committer and waits for the outcome. A
// caller whose ctx ends before its batch starts gets ctx.Err() and nothing
// is stored; once the batch has started, it gets the batch's outcome (a
// committed row must not be reported as failed). With idem, the items are
// stored only if the transaction claims its key (the outcome says).
func (s *Service) insert(ctx context.Context, items []NewItem, idem *Idempotency) ([]Inserted, ClaimOutcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, ClaimOutcome{}, err
	}
	req := &insertRequest{ctx: ctx, items: items, idem: idem, at: time.Now(), done: make(chan insertResult, 1)}
	b := &s.batch
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ClaimOutcome{}, Errorf(EUNAVAILABLE, "service is shutting down")
	}
	b.queue = append(b.queue, req)
	b.rows += len(items)
	start := !b.running
	if start {
		b.running = true
		b.stopped = make(chan struct{})
	}
	full := b.rows >= b.target()
	b.mu.Unlock()
	if start {
		go s.commitLoop()
	} else if full {
		b.signal()
	}

	select {
	case res := <-req.done:
		return res.rows, res.outcome, res.err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqQueued, reqDropped) {
			return nil, ClaimOutcome{}, ctx.Err()
		}
		res := <-req.done // already in a batch: its real outcome
		return res.rows, res.outcome, res.err
	}
}

func (b *batcher) signal() {
	select {
	case b.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Close stops s from taking new notifications (they fail with
// EUNAVAILABLE), waits until those already queued are committed, pushed
// and answered, then stops the catch-up of failed inserts (settle.go), or
// until ctx ends.
func (s *Service) Close(ctx context.Context) error {
	err := s.drain(ctx)
	if serr := s.closeSettle(ctx); serr != nil && err == nil {
		err = fmt.Errorf("notify: close: %w", serr)
	}
	return err
}

// drain stops the batcher taking calls and waits for its committer.
func (s *Service) drain(ctx context.Context) error {
	b := &s.batch
	b.mu.Lock()
	b.closed = true
	running, stopped := b.running, b.stopped
	b.mu.Unlock()
	if !running {
		return nil
	}
	b.signal() // a committer waiting for more commits at once
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("notify: close: %w", ctx.Err())
	}
}

// commitLoop is the committer: it commits batches until the queue is
// empty.
func (s *Service) commitLoop() {
	for {
		batch := s.batch.collect()
		if batch == nil {
			return
		}
		s.commit(batch)
	}
}

// collect returns the next batch, or nil, marking the committer stopped,
// when the queue is empty. It waits for more calls until the queue holds
// MaxRows rows or MaxWait has passed since the first queued one, and only
// while the queue holds fewer rows than the previous batch had: that many
// callers were just answered and are likely on their way back, whereas
// after a lone call nobody is coming, and waiting would only add latency.
func (b *batcher) collect() []*insertRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if len(b.queue) == 0 {
			b.running = false
			close(b.stopped)
			return nil
		}
		wait := b.cfg.MaxWait - time.Since(b.queue[0].at)
		if b.closed || wait <= 0 || b.rows >= b.target() {
			batch, n := b.take()
			if len(batch) == 0 {
				continue // every caller had given up
			}
			b.last = n
			return batch
		}
		b.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-b.wake:
		}
		t.Stop()
		b.mu.Lock()
	}
}

// target is how many queued rows end the wait for more. Call with mu held.
func (b *batcher) target() int {
	return min(b.cfg.MaxRows, b.last)
}

// take moves calls from the front of the queue into a batch until it
// holds MaxRows rows, the first call always, and returns it with its row
// count. A call whose context has ended is answered with its error and
// left out. Call with mu held.
func (b *batcher) take() ([]*insertRequest, int) {
	var batch []*insertRequest
	n, i := 0, 0
	for ; i < len(b.queue) && (len(batch) == 0 || n < b.cfg.MaxRows); i++ {
		req := b.queue[i]
		b.rows -= len(req.items)
		if err := req.ctx.Err(); err != nil && req.state.CompareAndSwap(reqQueued, reqDropped) {
			req.done <- insertResult{err: err}
			continue
		}
		if !req.state.CompareAndSwap(reqQueued, reqTaken) {
			continue // its caller gave up
		}
		batch = append(batch, req)
		n += len(req.items)
	}
	// Shift rather than reslice, so answered calls are not kept alive by
	// the queue's array.
	left := copy(b.queue, b.queue[i:])
	clear(b.queue[left:])
	b.queue = b.queue[:left]
	return batch, n
}

// commit stores a batch in one transaction, pushes the committed rows in
// id order and answers every call of the batch. The transaction does not
// use the callers' contexts: once a batch has started, its outcome is
// everyone's. The store bounds it with database.query_timeout. A failure
// fails every call of the batch and pushes nothing; its users are marked
// unsettled, since the rows may commit all the same (settle.go).
func (s *Service) commit(batch []*insertRequest) {
	var (
		items  []NewItem
		claims []Claim
	)
	for _, req := range batch {
		if req.idem != nil {
			claims = append(claims, Claim{Idempotency: *req.idem, First: len(items), Count: len(req.items)})
		}
		items = append(items, req.items...)
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
	rows, outcomes, err := s.store.InsertBatch(context.Background(), items, claims, s.now())
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
		s.unsettle(users)
	} else {
		s.push(s.settleBeforePush(rows))
	}
	unlock()

	off, claim := 0, 0
	for _, req := range batch {
		if err != nil {
			req.done <- insertResult{err: err}
			continue
		}
		res := insertResult{rows: rows[off : off+len(req.items) : off+len(req.items)]}
		if req.idem != nil {
			res.outcome = outcomes[claim]
			claim++
		}
		req.done <- res
		off += len(req.items)
	}
}
