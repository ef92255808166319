package natsbroker

import (
	"context"

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
			b.rcv.Resync(ctx)
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
	payload, self, reason := b.open.open(m.Subject, m.Data)
	switch {
	case self:
		return
	case reason != "":
		b.metrics.rejected.WithLabelValues(reason).Inc()
		b.logger.Debug("natsbroker: message refused", "subject", m.Subject, "reason", reason)
		return
	}
	b.metrics.received.Inc()
	b.rcv.Receive(ctx, user, payload)
}
