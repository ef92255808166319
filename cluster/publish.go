package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/notifyd/notifyd/notify"
)

// Publish delivers changes to this instance's sockets at once, through
// the receiver (which records their seqs, so the echo of this instance's
// own doorbells would be dropped too), and queues their doorbells for the
// sender. The changes are committed: the NOTIFY follows the commit instead
// of being part of it, so commits do not queue on Postgres' NOTIFY lock;
// the seqs order and repair what the doorbells do not. An event is stored
// first (its data never goes in a doorbell), in ctx.
func (l *Listener) Publish(ctx context.Context, changes []notify.Change) error {
	rings := make([]ring, 0, len(changes))
	for _, c := range changes {
		var row int64
		if c.Kind == notify.ChangeEvent {
			// Stored before anything is delivered: a failure fails the
			// call without a socket here having had the event.
			id, err := l.deps.Store.StoreEvent(ctx, c.User, *c.Event)
			if err != nil {
				return fmt.Errorf("cluster: publish event: %w", err)
			}
			row = id
		}
		rings = append(rings, ringOf(c, row))
	}
	l.receiver.Deliver(changes)
	if !l.outbox.put(rings) {
		// The database has not taken doorbells for a while: the other
		// instances will find these changes by their audit.
		l.logger.Warn("cluster: doorbell queue full; changes left to the other instances' audit", "changes", len(rings))
	}
	return nil
}

// Watch needs no subscription: every instance hears every doorbell.
func (l *Listener) Watch(context.Context, int64) error { return nil }

// Unwatch forgets the user's sequence.
func (l *Listener) Unwatch(userID int64) { l.receiver.Forget(userID) }

// Seen starts the user's sequence at the hello's read.
func (l *Listener) Seen(userID, seq int64) { l.receiver.Seen(userID, seq) }

// Local is false: other instances' changes come through the doorbells.
func (l *Listener) Local() bool { return false }

// outbox is the queue of rings waiting for the sender, bounded: past
// limit, Publish drops rather than grows without end while the database
// is down.
type outbox struct {
	mu    sync.Mutex
	rings []ring
	limit int
	ready chan struct{} // a value when rings is not empty
}

func (o *outbox) init(limit int) {
	o.limit = limit
	o.ready = make(chan struct{}, 1)
}

// put queues rings, or reports false when the queue is full.
func (o *outbox) put(rings []ring) bool {
	if len(rings) == 0 {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.rings)+len(rings) > o.limit {
		return false
	}
	o.rings = append(o.rings, rings...)
	select {
	case o.ready <- struct{}{}:
	default:
	}
	return true
}

// take returns every queued ring.
func (o *outbox) take() []ring {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rings
	o.rings = nil
	return r
}

// send rings the queued doorbells until ctx ends: everything queued since
// the last round in one statement (several payloads), so a busy instance
// sends few large NOTIFYs. A failure drops them (logged): the receivers'
// gap repair and audit find the changes in the database.
func (l *Listener) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			l.flush() // what was committed before the end still rings
			return
		case <-l.outbox.ready:
		}
		if err := l.sendQueued(ctx); err != nil && !errors.Is(err, context.Canceled) {
			l.logger.Warn("cluster: doorbells not sent; the other instances repair from the database", "error", err)
		}
	}
}

func (l *Listener) sendQueued(ctx context.Context) error {
	rings := l.outbox.take()
	if len(rings) == 0 {
		return nil
	}
	payloads, err := l.signer.encode(l.origin, rings)
	if err != nil {
		return err
	}
	return l.deps.Store.Notify(ctx, Channel, payloads)
}

// flush sends what is queued at shutdown, bounded by connectTimeout.
func (l *Listener) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := l.sendQueued(ctx); err != nil {
		l.logger.Warn("cluster: doorbells not sent at shutdown", "error", err)
	}
}
