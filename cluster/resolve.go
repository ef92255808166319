package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// The read-back pipeline. The resolver takes everything queued in the
// inbox at once and starts its read-back (one query for all the
// notifications, one for the sessions) without waiting for the reads
// already running: up to readsInFlight batches are read at the same time,
// each on a connection of the store's pool, so a doorbell that arrives
// while a read runs waits for its own round trip only, not for the one
// before it as well. One deliverer hands the batches to the receiver in
// the order they were taken, each once its read is done: a later batch
// never reaches a socket before an earlier one, and a read that fails is
// retried (the batch staying queued, counted in the lag) before anything
// after it is delivered. So a burst of doorbells costs a few queries, not
// one per doorbell, and a slow read holds up delivery (the lag shows it)
// but neither the receiving of the next doorbell nor its read.

// readsInFlight bounds the read-backs running at once: a constant, not a
// tunable (docs/decisions.md, "postgres broker: read-backs in flight").
// Past it the resolver waits, and what arrives meanwhile joins the next
// batch.
const readsInFlight = 4

// inbox is the queue of received changes: those waiting for their
// read-back, then those being read, until they are delivered.
type inbox struct {
	mu      sync.Mutex
	changes []notify.Change // every change not yet delivered, oldest first
	taken   int             // how many of them are being read back
	ready   chan struct{}   // a value when changes holds some not taken
}

func (in *inbox) init() { in.ready = make(chan struct{}, 1) }

func (in *inbox) put(changes []notify.Change) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.changes = append(in.changes, changes...)
	select {
	case in.ready <- struct{}{}:
	default:
	}
}

// take returns the changes not taken yet and marks them taken; they stay
// queued, counted in the lag, until done.
func (in *inbox) take() []notify.Change {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := len(in.changes)
	batch := in.changes[in.taken:n:n] // put never writes into it
	in.taken = n
	return batch
}

// done removes the n oldest changes, once delivered.
func (in *inbox) done(n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.changes = in.changes[n:]
	in.taken -= n
	if len(in.changes) == 0 {
		in.changes = nil
	}
}

// lag is now minus the commit time of the oldest queued change.
func (in *inbox) lag(now time.Time) time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.changes) == 0 {
		return 0
	}
	return max(0, now.Sub(in.changes[0].At))
}

// readBatch is one batch taken from the inbox and its read-back.
type readBatch struct {
	changes  []notify.Change
	done     chan struct{} // closed when resolved and err are set
	resolved []notify.Change
	err      error
}

// resolve reads back and delivers the queued changes until ctx ends, and
// returns once its reads have.
func (l *Listener) resolve(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	// A slot per batch being read or waiting for its turn to be
	// delivered: the batch is taken once a slot is free, so what arrives
	// while every slot is busy joins it.
	slots := make(chan struct{}, readsInFlight)
	order := make(chan *readBatch, readsInFlight) // the batches taken, in order
	wg.Go(func() { l.deliverBatches(ctx, order, slots) })
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.inbox.ready:
		}
		for {
			select {
			case <-ctx.Done():
				return
			case slots <- struct{}{}:
			}
			changes := l.inbox.take()
			if len(changes) == 0 {
				<-slots
				break
			}
			b := &readBatch{changes: changes, done: make(chan struct{})}
			order <- b // never full: each batch in it holds a slot
			wg.Go(func() {
				defer close(b.done)
				b.resolved, b.err = l.readBack(ctx, b.changes)
			})
		}
	}
}

// deliverBatches hands the batches to the receiver in order, each once its
// read is done. A read that failed is retried with backoff, the changes
// staying queued (the lag grows, and /readyz fails past
// cluster.max_listener_lag), and nothing after it is delivered before.
// It frees the batch's slot once delivered.
func (l *Listener) deliverBatches(ctx context.Context, order <-chan *readBatch, slots <-chan struct{}) {
	for {
		var b *readBatch
		select {
		case <-ctx.Done():
			return
		case b = <-order:
		}
		select {
		case <-ctx.Done():
			return
		case <-b.done:
		}
		resolved, err := b.resolved, b.err
		backoff := l.cfg.MinBackoff
		for err != nil {
			if ctx.Err() != nil {
				return
			}
			l.logger.Warn("cluster: read-back failed", "changes", len(b.changes), "error", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, l.cfg.MaxBackoff)
			resolved, err = l.readBack(ctx, b.changes)
		}
		l.receiver.Deliver(resolved)
		l.inbox.done(len(b.changes))
		<-slots
	}
}
