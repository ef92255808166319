package natsbroker

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
)

// Run hands what the bus receives to the Receiver until ctx is done or
// Close is called, then returns nil. Call it once.
func (b *Bus) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.done:
			return nil
		case <-b.resync:
			// The subscriptions nats.go sent again on reconnecting must be
			// active before the catch-up reads the database. If the round
			// trip fails the connection is lost again, and its
			// reconnection asks for another resync.
			if err := b.confirm(ctx); err != nil {
				b.logger.Warn("natsbroker: resync: subscriptions not confirmed", "error", err)
			}
			b.metrics.resyncs.Inc()
			b.setBusy(b.now(), false)
			b.rcv.Resync(ctx)
			b.setBusy(time.Time{}, false)
		case m := <-b.msgs:
			b.handle(ctx, m)
		}
	}
}

// handle opens one message and hands it over, or counts why not.
func (b *Bus) handle(ctx context.Context, m *nats.Msg) {
	user, ok := b.user(m.Subject)
	if !ok {
		b.metrics.rejected.WithLabelValues(RejectMalformed).Inc()
		return
	}
	msg, reason := b.open.open(m.Subject, m.Data)
	switch {
	case msg.self:
		return
	case reason != "":
		b.metrics.rejected.WithLabelValues(reason).Inc()
		b.logger.Debug("natsbroker: message refused", "subject", m.Subject, "reason", reason)
		return
	}
	b.metrics.received.Inc()
	b.setBusy(msg.sentAt, true)
	defer b.setBusy(time.Time{}, false)
	b.rcv.Receive(ctx, user, msg.payload)
}

// setBusy records what Run is doing, for Lag: handing over a message sent
// at since (msg), or resyncing since then, or nothing (zero since).
func (b *Bus) setBusy(since time.Time, msg bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.busySince, b.busyMsg = since, msg
}

// Lag is how long the change Run is handing over has waited since it was
// sent, or, while Run resyncs with messages waiting behind, how long the
// resync has taken; 0 when Run keeps up. What the Receiver holds is its
// own Lag.
func (b *Bus) Lag() time.Duration {
	b.mu.Lock()
	since, msg := b.busySince, b.busyMsg
	b.mu.Unlock()
	if since.IsZero() || (!msg && len(b.msgs) == 0) {
		return 0
	}
	return max(b.now().Sub(since), 0)
}
