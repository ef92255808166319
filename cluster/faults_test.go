package cluster_test

import (
	"context"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/notify"
)

// faultyBus is a listener store whose doorbells (Notify) a test can lose,
// repeat or reorder, as an at-most-once bus might: the sending node's
// side of every repair test.
type faultyBus struct {
	cluster.Store

	mu    sync.Mutex
	calls int        // Notify calls seen
	drop  int        // the next drop calls are lost
	twice bool       // every call is sent twice
	hold  bool       // the next call is held and sent after the one after it
	held  [][]string // what is held
}

func (b *faultyBus) Notify(ctx context.Context, channel string, payloads []string) error {
	b.mu.Lock()
	b.calls++
	var send [][]string
	switch {
	case b.drop > 0:
		b.drop--
	case b.hold:
		b.hold = false
		b.held = append(b.held, payloads)
	default:
		send = append(send, payloads)
		if b.twice {
			send = append(send, payloads)
		}
		send = append(send, b.held...)
		b.held = nil
	}
	b.mu.Unlock()
	for _, p := range send {
		if err := b.Store.Notify(ctx, channel, p); err != nil {
			return err
		}
	}
	return nil
}

// seen returns how many Notify calls the bus had.
func (b *faultyBus) seen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// set changes the bus under its lock.
func (b *faultyBus) set(f func(b *faultyBus)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

// faultyPair returns node a, whose doorbells go through the returned bus,
// and node b, with alice's socket on b.
func faultyPair(tb testing.TB) (a, b *node, bus *faultyBus, alice int64, s *socket) {
	tb.Helper()
	db := clusterDB(tb)
	bus = &faultyBus{}
	a = newNode(tb, db, nodeOptions{wrap: func(st cluster.Store) cluster.Store { bus.Store = st; return bus }})
	b = newNode(tb, db, nodeOptions{})
	alice, sess := testkit.StoreUser(tb, a.st, "alice")
	s = b.connect(tb, alice, sess)
	return a, b, bus, alice, s
}

// notifyAndRing creates a notification of userID on n and waits until its
// doorbell went through the bus (sent, lost or held).
func notifyAndRing(tb testing.TB, n *node, bus *faultyBus, userID int64, title string) notify.Notification {
	tb.Helper()
	before := bus.seen()
	row, err := n.svc.Notify(context.Background(), userID, notify.NewNotification{Title: title})
	if err != nil {
		tb.Fatal(err)
	}
	testkit.Eventually(tb, "the doorbell of "+title, func() bool { return bus.seen() > before })
	return row
}

// TestLostDoorbellRepairedByNextChange: the doorbell of n1 is lost; the
// next change of the user arrives with a seq one too far, and the
// receiving node catches the socket up from the database before
// delivering it: n1 then n2, once each.
func TestLostDoorbellRepairedByNextChange(t *testing.T) {
	t.Parallel()
	a, _, bus, alice, s := faultyPair(t)
	bus.set(func(b *faultyBus) { b.drop = 1 })
	n1 := notifyAndRing(t, a, bus, alice, "lost")
	n2 := notifyAndRing(t, a, bus, alice, "next")
	testkit.Eventually(t, "both notifications", func() bool { return len(s.IDs()) >= 2 })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), []int64{n1.ID, n2.ID})
}

// TestLostLastChangeRepairedByAudit: the doorbell of the user's last
// change is lost and nothing follows it; the audit finds the user's seq
// ahead in the database and catches the socket up.
func TestLostLastChangeRepairedByAudit(t *testing.T) {
	t.Parallel()
	a, b, bus, alice, s := faultyPair(t)
	n1 := notifyAndRing(t, a, bus, alice, "first")
	testkit.Eventually(t, "first", func() bool { return len(s.IDs()) == 1 })
	before := bus.seen()
	if err := a.svc.Delete(context.Background(), alice, n1.ID); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the delete's doorbell", func() bool { return bus.seen() > before })
	s.WaitType(t, "notification_deleted")
	bus.set(func(b *faultyBus) { b.drop = 1 })
	n2 := notifyAndRing(t, a, bus, alice, "lost last")
	testkit.Eventually(t, "the lost last notification", func() bool { return len(s.IDs()) == 2 })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), []int64{n1.ID, n2.ID})
	if m := s.WaitType(t, "unread_count"); *m.UnreadCount != 1 {
		t.Fatalf("unread count after the audit's catch-up = %d, want 1", *m.UnreadCount)
	}
	// The repair is counted once its catch-up is done, which is after the
	// catch-up's frames left for the socket: wait for the count.
	testkit.Eventually(t, "an audit repair counted", func() bool {
		return metricstest.Value(t, b.reg, "notifyd_cluster_repairs_total", "cause", notify.RepairAudit) >= 1
	})
}

// TestDuplicateDoorbellDropped: every doorbell arrives twice; each
// change reaches the socket once.
func TestDuplicateDoorbellDropped(t *testing.T) {
	t.Parallel()
	a, _, bus, alice, s := faultyPair(t)
	bus.set(func(b *faultyBus) { b.twice = true })
	n1 := notifyAndRing(t, a, bus, alice, "one")
	if _, err := a.svc.SetRead(context.Background(), alice, n1.ID, true); err != nil {
		t.Fatal(err)
	}
	n2 := notifyAndRing(t, a, bus, alice, "two")
	testkit.Eventually(t, "both notifications", func() bool { return len(s.IDs()) >= 2 })
	s.WaitType(t, "notification_updated")
	// A third change, delivered after the duplicates of the first two
	// were received and dropped.
	n3 := notifyAndRing(t, a, bus, alice, "three")
	testkit.Eventually(t, "the third", func() bool { return len(s.IDs()) >= 3 })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), []int64{n1.ID, n2.ID, n3.ID})
	updated := 0
	for _, m := range s.Frames() {
		if m.Type == "notification_updated" {
			updated++
		}
	}
	if updated != 1 {
		t.Fatalf("%d notification_updated messages, want 1", updated)
	}
}

// TestReorderedDoorbells: the doorbell of n1 arrives after that of n2;
// the socket still gets n1 then n2, once each.
func TestReorderedDoorbells(t *testing.T) {
	t.Parallel()
	a, _, bus, alice, s := faultyPair(t)
	bus.set(func(b *faultyBus) { b.hold = true })
	n1 := notifyAndRing(t, a, bus, alice, "first, rung second")
	n2 := notifyAndRing(t, a, bus, alice, "second, rung first")
	testkit.Eventually(t, "both notifications", func() bool { return len(s.IDs()) >= 2 })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), []int64{n1.ID, n2.ID})
}
