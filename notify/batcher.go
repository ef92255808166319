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
// collector goroutine hands them together to the Service: one
// transaction, one INSERT per chunk. Up to BatchConfig.Committers batches
// are in their transaction at once: the collector takes a free committer
// slot, collects a batch, has the Service lock what the batch needs (its
// users' stripes, in collection order: a batch collected earlier always
// locks first) and hands it to a goroutine of its own that stores and
// pushes it; with one committer it stores the batch itself. The collector
// runs only while there is work: the first call that finds it stopped
// starts it, and it stops when the queue is empty; a batch's goroutine
// ends with its batch, so an idle Service holds no goroutine.

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

// batcher is the queue of the committers and its state.
type batcher struct {
	cfg BatchConfig
	// begin takes what a batch needs before its transaction (the stripe
	// locks), in collection order, and returns the function that stores
	// the batch, answers every request of it and releases what begin took.
	begin func([]*insertRequest) (commit func())
	// slots holds one value per batch collected and not yet answered: at
	// most Committers.
	slots chan struct{}

	mu      sync.Mutex
	queue   []*insertRequest
	rows    int           // rows in queue
	last    int           // rows of the previous batch
	running bool          // the collector goroutine is running
	busy    int           // goroutines running: the collector and the batches it handed off
	idle    chan struct{} // made by drain, closed when busy falls to 0
	closed  bool          // Close was called: take nothing new

	// wake tells a waiting collector that the queue is full or that the
	// service is closing.
	wake chan struct{}

	// free holds answered insertRequests for later calls (request).
	free sync.Pool
}

// newBatcher returns an idle batcher that hands each batch to begin (see
// batcher.begin).
func newBatcher(c BatchConfig, begin func([]*insertRequest) func()) *batcher {
	c.MaxWait = max(c.MaxWait, 0)
	c.Committers = max(c.Committers, 1)
	return &batcher{cfg: c, begin: begin, slots: make(chan struct{}, c.Committers), wake: make(chan struct{}, 1)}
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
	req := b.request(ctx, items, idem)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.release(req)
		return nil, ClaimOutcome{}, Errorf(EUNAVAILABLE, "service is shutting down")
	}
	b.queue = append(b.queue, req)
	b.rows += len(items)
	start := !b.running
	if start {
		b.running = true
		b.enter()
	}
	full := b.rows >= b.target()
	b.mu.Unlock()
	if start {
		go b.loop()
	} else if full {
		b.signal()
	}

	var res insertResult
	select {
	case res = <-req.done:
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqQueued, reqDropped) {
			// The queue still holds req, until the collector skips it: it
			// is left to the garbage collector, not reused.
			return nil, ClaimOutcome{}, ctx.Err()
		}
		res = <-req.done // already in a batch: its real outcome
	}
	b.release(req)
	return res.rows, res.outcome, res.err
}

// request returns a request for a call, reused from an earlier call when
// one is free: a request and its channel were two allocations of every
// Notify call (about 300 bytes).
func (b *batcher) request(ctx context.Context, items []NewItem, idem *Idempotency) *insertRequest {
	req, _ := b.free.Get().(*insertRequest)
	if req == nil {
		req = &insertRequest{done: make(chan insertResult, 1)}
	}
	req.ctx, req.items, req.idem, req.at = ctx, items, idem, time.Now()
	req.state.Store(reqQueued)
	return req
}

// release makes req free for another call. Call it only once req's answer
// has been received, or when it was never queued: the committer touches
// no request after answering it (take, Service.commit), and the queue
// holds none of those, so nothing else refers to it.
func (b *batcher) release(req *insertRequest) {
	req.ctx, req.items, req.idem = nil, nil, nil // keep nothing of the call alive
	b.free.Put(req)
}

func (b *batcher) signal() {
	select {
	case b.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// enter counts a goroutine in busy. Call with mu held.
func (b *batcher) enter() {
	b.busy++
}

// leave counts a goroutine out of busy, and tells drain when it was the
// last. Call with mu held.
func (b *batcher) leave() {
	b.busy--
	if b.busy == 0 && b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
}

// loop is the collector: it collects batches until the queue is empty,
// each once a committer slot is free, and hands them off. While every
// slot is taken, calls queue up and the next batch takes them together.
func (b *batcher) loop() {
	for {
		b.slots <- struct{}{}
		batch := b.collect()
		if batch == nil {
			<-b.slots
			b.mu.Lock()
			b.leave()
			b.mu.Unlock()
			return
		}
		commit := b.begin(batch)
		if cap(b.slots) == 1 {
			// Nothing could run beside it: no goroutine to start.
			commit()
			<-b.slots
			continue
		}
		b.mu.Lock()
		b.enter()
		b.mu.Unlock()
		go func() {
			commit()
			<-b.slots
			b.mu.Lock()
			b.leave()
			b.mu.Unlock()
		}()
	}
}

// collect returns the next batch, or nil, marking the collector stopped,
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
