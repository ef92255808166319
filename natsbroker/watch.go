package natsbroker

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
)

// watch is the subscription to one user's subject, shared by the sockets
// of that user on this instance.
type watch struct {
	refs  int
	ready chan struct{}      // closed once the first Watch has subscribed (or failed)
	sub   *nats.Subscription // nil until subscribed
	err   error
}

// Watch subscribes to user's subject, or takes one more reference on the
// subscription, and returns once the server has it: a change published
// after Watch returns reaches Run, so the caller may read the database
// next (the hello of a socket) and miss nothing. While the connection is
// down it returns at once: the reconnection resyncs every watched user.
// After a nil error the caller must call Unwatch exactly once; after an
// error, never.
func (b *Bus) Watch(ctx context.Context, user int64) error {
	b.mu.Lock()
	w, ok := b.watches[user]
	if !ok {
		w = &watch{ready: make(chan struct{})}
		b.watches[user] = w
	}
	w.refs++
	b.mu.Unlock()

	if !ok {
		sub, err := b.nc.ChanSubscribe(b.subject(user), b.msgs)
		if err == nil {
			err = b.confirm(ctx)
		}
		if err != nil {
			err = fmt.Errorf("natsbroker: subscribe: %w", err)
		}
		b.mu.Lock()
		w.sub, w.err = sub, err
		b.mu.Unlock()
		close(w.ready)
	} else {
		select {
		case <-w.ready:
		case <-ctx.Done():
			b.Unwatch(user)
			return ctx.Err()
		}
	}
	b.mu.Lock()
	err := w.err
	b.mu.Unlock()
	if err != nil {
		b.Unwatch(user)
		return err
	}
	return nil
}

// Unwatch drops a reference taken by Watch; the last one unsubscribes.
func (b *Bus) Unwatch(user int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w, ok := b.watches[user]
	if !ok {
		return
	}
	if w.refs--; w.refs > 0 {
		return
	}
	delete(b.watches, user)
	// Under the lock: the UNSUB is queued before the SUB of a Watch that
	// follows, so the server never holds two subscriptions of one user
	// for this connection (which would deliver each message twice).
	if w.sub != nil {
		_ = w.sub.Unsubscribe() // fails only on a closed connection, which has no subscriptions left
	}
}

// confirm makes sure the server has processed what was sent before (a
// SUB): one round trip. While the connection is down it returns nil, since
// the reconnection resyncs every watched user.
func (b *Bus) confirm(ctx context.Context) error {
	if !b.nc.IsConnected() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	err := b.nc.FlushWithContext(ctx)
	if err != nil && !b.nc.IsConnected() {
		return nil
	}
	return err
}

// Watched returns the users this instance holds subscriptions for.
func (b *Bus) Watched() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]int64, 0, len(b.watches))
	for u := range b.watches {
		out = append(out, u)
	}
	return out
}
