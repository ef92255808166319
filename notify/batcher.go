package notify

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. A database commits a few thousand single-row transactions
// per second but tens of thousands of rows per second in multi-row
// INSERTs, so concurrent Notify and NotifyMany calls are queued and one
// committer goroutine hands them together to the Service's commit: one
// transaction, one INSERT per chunk. The committer runs only while there
// is work: the first call that finds it stopped starts it, and it stops
// when the queue is empty, so an idle Service holds no goroutine.

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
	cfg    BatchConfig
	commit func([]*insertRequest) // stores a batch and answers its requests

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

// newBatcher returns an idle batcher that hands each batch to commit,
// which must answer every request of it.
func newBatcher(c BatchConfig, commit func([]*insertRequest)) *batcher {
	c.MaxWait = max(c.MaxWait, 0)
	return &batcher{cfg: c, commit: commit, wake: make(chan struct{}, 1)}
}

// insert queues items for the committer and waits for the outcome. A
// caller whose ctx ends before its batch starts gets ctx.Err() and nothing
// is stored; once the batch has started, it gets the batch's outcome (a
// committed row must not be reported as failed). With idem, the items are
// stored only if the transaction claims its key (the outcome says).
func (b *batcher) insert(ctx context.Context, items []NewItem, idem *Idempotency) ([]Inserted, ClaimOutcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, ClaimOutcome{}, err
	}
	req := &insertRequest{ctx: ctx, items: items, idem: idem, at: time.Now(), done: make(chan insertResult, 1)}
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
		go b.loop()
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

// loop is the committer: it commits batches until the queue is empty.
func (b *batcher) loop() {
	for {
		batch := b.collect()
		if batch == nil {
			return
		}
		b.commit(batch)
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
