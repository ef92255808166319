package cluster_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/notify"
)

// stallStore holds the listener's read-backs while stalled: a receiver
// that cannot keep up.
type stallStore struct {
	cluster.Store
	mu      sync.Mutex
	stalled chan struct{} // closed to release; nil when not stalled
}

func (s *stallStore) stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = make(chan struct{})
}

func (s *stallStore) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.stalled)
	s.stalled = nil
}

func (s *stallStore) NotificationsByIDs(ctx context.Context, ids []int64) ([]notify.Notification, error) {
	s.mu.Lock()
	ch := s.stalled
	s.mu.Unlock()
	if ch != nil {
		if err := await(ctx, ch); err != nil {
			return nil, err
		}
	}
	return s.Store.NotificationsByIDs(ctx, ids)
}

// await waits until ch is closed (nil) or ctx is done (its error).
func await(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestDeliveryLagFailsReady: while the read-back of the changes received
// is stalled, the delivery lag grows past max_listener_lag although the
// listener stays connected: Ready fails with EUNAVAILABLE (/readyz 503)
// and the lag metric shows it. Released, every notification arrives once
// and Ready succeeds again.
func TestDeliveryLagFailsReady(t *testing.T) {
	t.Parallel()
	db := clusterDB(t)
	a := newNode(t, db, nodeOptions{})
	stalled := &stallStore{}
	b := newNode(t, db, nodeOptions{maxLag: 300 * time.Millisecond,
		wrap: func(s cluster.Store) cluster.Store { stalled.Store = s; return stalled }})
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	s := b.connect(t, alice, sess)
	ctx := context.Background()

	stalled.stall()
	pub := publish(t, a.svc, []int64{alice})
	testkit.Eventually(t, "Ready to fail on the lag", func() bool { return b.l.Ready(ctx) != nil })
	if err := b.l.Ready(ctx); notify.ErrorCode(err) != notify.EUNAVAILABLE {
		t.Fatalf("Ready = %v, want EUNAVAILABLE", err)
	}
	if !b.l.Connected() {
		t.Fatal("listener disconnected: the lag, not the connection, must fail Ready")
	}
	testkit.Eventually(t, "the lag metric", func() bool {
		return metricstest.Value(t, b.reg, "notifyd_cluster_delivery_lag_seconds") > 0.3
	})
	stalled.release()
	pub.halt()
	want := dbIDs(t, a.st, alice)
	testkit.Eventually(t, "every notification", func() bool { return len(s.IDs()) >= len(want) })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), want)
	testkit.Eventually(t, "Ready again", func() bool { return b.l.Ready(ctx) == nil })
}
