package notify

import "context"

// LocalBroker is the Broker of a single instance (cluster.broker =
// "local"): Publish hands each change to the hub at once, in the order
// given, which the Service's user locks make commit order. Nothing comes
// from elsewhere, so there is nothing to watch, to sequence or to lag.
type LocalBroker struct {
	hub *Hub
}

// NewLocalBroker returns the Broker that delivers to hub only.
func NewLocalBroker(hub *Hub) *LocalBroker { return &LocalBroker{hub: hub} }

// Publish delivers changes to this instance's sockets.
func (b *LocalBroker) Publish(_ context.Context, changes []Change) error {
	for _, c := range changes {
		b.hub.Apply(c)
	}
	return nil
}

// Run waits for ctx: there is nothing to receive.
func (b *LocalBroker) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Ready always succeeds: delivery happens in Publish.
func (b *LocalBroker) Ready(context.Context) error { return nil }

// Watch has nothing to subscribe to.
func (b *LocalBroker) Watch(context.Context, int64) error { return nil }

// Unwatch has nothing to unsubscribe from.
func (b *LocalBroker) Unwatch(int64) {}

// Seen needs no sequence: one process publishes in commit order.
func (b *LocalBroker) Seen(int64, int64) {}

// Local is true: every change is published here, through the hub.
func (b *LocalBroker) Local() bool { return true }
