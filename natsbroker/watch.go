package natsbroker

import (
	"context"
	"fmt"
)

// Watch subscribes to user's subject and returns once the server has the
// subscription: a message published after Watch returns reaches Run, so
// the caller may read the database next (the hello of a socket) and miss
// nothing. While the connection is down it returns at once: the
// reconnection resyncs every watched user. The caller (notify's Service)
// calls Watch once per user until Unwatch, never both at once; a second
// Watch of a watched user is a no-op.
func (b *Bus) Watch(ctx context.Context, user int64) error {
	b.mu.Lock()
	_, watched := b.subs[user]
	b.mu.Unlock()
	if watched {
		return nil
	}
	sub, err := b.nc.ChanSubscribe(b.subject(user), b.msgs)
	if err == nil {
		err = b.confirm(ctx)
		if err != nil {
			_ = sub.Unsubscribe()
		}
	}
	if err != nil {
		return fmt.Errorf("natsbroker: subscribe: %w", err)
	}
	b.mu.Lock()
	b.subs[user] = sub
	b.mu.Unlock()
	return nil
}

// Unwatch unsubscribes from user's subject. It does not wait for the
// server: the UNSUB is queued on the connection before the SUB of any later
// Watch of the user (the Service never runs both at once for one user), so
// the server never holds two subscriptions of one user for this
// connection, which would deliver each message twice.
func (b *Bus) Unwatch(user int64) {
	b.mu.Lock()
	sub := b.subs[user]
	delete(b.subs, user)
	b.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe() // fails only on a closed connection, which has no subscriptions left
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
