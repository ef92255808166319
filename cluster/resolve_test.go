package cluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

// firstReadHeld holds the listener's first read-back of notifications
// until release is closed, and counts the read-backs started and
// finished.
type firstReadHeld struct {
	cluster.Store
	release           chan struct{}
	started, finished atomic.Int32
}

func (s *firstReadHeld) NotificationsByIDs(ctx context.Context, ids []int64) ([]notify.Notification, error) {
	defer s.finished.Add(1)
	if s.started.Add(1) == 1 {
		if err := await(ctx, s.release); err != nil {
			return nil, err
		}
	}
	return s.Store.NotificationsByIDs(ctx, ids)
}

// TestReadBackDoesNotWaitForTheOneBefore: while the read-back of one
// doorbell is held, the next doorbell's read-back runs (a slow read holds
// up neither the receiving nor the reading of what follows), but its
// changes are not delivered before the held ones. Released, both arrive
// once.
func TestReadBackDoesNotWaitForTheOneBefore(t *testing.T) {
	t.Parallel()
	db := clusterDB(t)
	a := newNode(t, db, nodeOptions{})
	held := &firstReadHeld{release: make(chan struct{})}
	// No audit during the test: it would catch bob up from the database
	// while his change waits behind alice's.
	b := newNode(t, db, nodeOptions{audit: time.Hour,
		wrap: func(s cluster.Store) cluster.Store { held.Store = s; return held }})
	alice, aliceSess := testkit.StoreUser(t, a.st, "alice")
	bob, bobSess := testkit.StoreUser(t, a.st, "bob")
	sa, sb := b.connect(t, alice, aliceSess), b.connect(t, bob, bobSess)
	ctx := context.Background()

	if _, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "first"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "alice's read-back held", func() bool { return held.started.Load() == 1 })
	if _, err := a.svc.Notify(ctx, bob, notify.NewNotification{Title: "second"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "bob's read-back done while alice's is held", func() bool { return held.finished.Load() == 1 })
	if ids := sb.IDs(); len(ids) != 0 {
		t.Fatalf("bob got %v before alice's earlier change was delivered", ids)
	}
	close(held.release)
	for _, c := range []struct {
		name string
		user int64
		s    *socket
	}{{"alice on B", alice, sa}, {"bob on B", bob, sb}} {
		want := dbIDs(t, a.st, c.user)
		testkit.Eventually(t, c.name, func() bool { return len(c.s.IDs()) >= len(want) })
		testkit.CheckExactlyOnce(t, c.name, c.s.IDs(), want)
	}
}
