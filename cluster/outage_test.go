package cluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// proxiedPair starts two nodes on a fresh database; b's listener (made
// with opt) reaches it through a proxy the test can stop, as an outage
// of B's link to Postgres.
func proxiedPair(tb testing.TB, opt nodeOptions) (a, b *node, p *storetest.Proxy) {
	tb.Helper()
	db := clusterDB(tb)
	a = newNode(tb, db, nodeOptions{})
	p, opt.listenURL = storetest.ProxyURL(tb, db.URL)
	return a, newNode(tb, db, opt), p
}

func TestReadyFollowsListener(t *testing.T) {
	t.Parallel()
	a, b, p := proxiedPair(t, nodeOptions{maxLag: 300 * time.Millisecond})
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	s := b.connect(t, alice, sess)
	ctx := context.Background()
	if err := b.l.Ready(ctx); err != nil {
		t.Fatalf("Ready while connected: %v", err)
	}

	pub := publish(t, a.svc, []int64{alice})
	p.Stop()
	testkit.Eventually(t, "listener down", func() bool { return !b.l.Connected() })
	// Kept away for longer than max_listener_lag: not ready.
	testkit.Eventually(t, "Ready to fail", func() bool { return b.l.Ready(ctx) != nil })
	if err := b.l.Ready(ctx); notify.ErrorCode(err) != notify.EUNAVAILABLE {
		t.Fatalf("Ready = %v, want EUNAVAILABLE", err)
	}
	if b.l.DisconnectedFor() <= 300*time.Millisecond {
		t.Fatalf("DisconnectedFor = %s", b.l.DisconnectedFor())
	}
	p.Start(t)
	testkit.Eventually(t, "Ready again", func() bool { return b.l.Ready(ctx) == nil })
	pub.halt()

	want := dbIDs(t, a.st, alice)
	testkit.Eventually(t, "every notification", func() bool { return len(s.IDs()) >= len(want) })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), want)
}

// flakyStore fails the listener's reads of notifications while failing is
// positive, counting down: a database that fails for a while.
type flakyStore struct {
	cluster.Store
	failing atomic.Int64
}

var errFlaky = notify.Errorf(notify.EUNAVAILABLE, "database unavailable (test)")

func (f *flakyStore) fail() bool { return f.failing.Add(-1) >= 0 }

func (f *flakyStore) NotificationsByIDs(ctx context.Context, ids []int64) ([]notify.Notification, error) {
	if f.fail() {
		return nil, errFlaky
	}
	return f.Store.NotificationsByIDs(ctx, ids)
}

func (f *flakyStore) NotificationsAfter(ctx context.Context, after map[int64]int64, limit int) ([]notify.Notification, error) {
	if f.fail() {
		return nil, errFlaky
	}
	return f.Store.NotificationsAfter(ctx, after, limit)
}

func TestFailedDoorbellIsCaughtUp(t *testing.T) {
	t.Parallel()
	// When the rows of a doorbell cannot be read, the listener must not
	// deliver the next doorbell (whose higher id would move the cursor
	// past the rows not sent) before the read has succeeded: the read-back
	// keeps the changes queued and retries (deliver.go).
	db := clusterDB(t)
	a := newNode(t, db, nodeOptions{})
	flaky := &flakyStore{}
	b := newNode(t, db, nodeOptions{wrap: func(s cluster.Store) cluster.Store { flaky.Store = s; return flaky }})
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	s := b.connect(t, alice, sess)

	pub := publish(t, a.svc, []int64{alice})
	for range 3 {
		before := len(s.IDs())
		testkit.Eventually(t, "progress", func() bool { return len(s.IDs()) > before+3 })
		// The read-back fails three times in a row.
		flaky.failing.Store(3)
		testkit.Eventually(t, "failures used up", func() bool { return flaky.failing.Load() < 0 })
	}
	pub.halt()
	want := dbIDs(t, a.st, alice)
	testkit.Eventually(t, "every notification", func() bool { return len(s.IDs()) >= len(want) })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), want)
}

func TestCatchUpReachesReplayingSocket(t *testing.T) {
	t.Parallel()
	a, b, p := proxiedPair(t, nodeOptions{})
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	ctx := context.Background()
	first, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "before"})
	if err != nil {
		t.Fatal(err)
	}

	p.Stop()
	testkit.Eventually(t, "listener down", func() bool { return !b.l.Connected() })
	// A socket connects to B while its listener is down, reads the newest
	// id and starts its replay; meanwhile A commits more.
	sub, err := b.hub.Register(alice, sess)
	if err != nil {
		t.Fatal(err)
	}
	defer b.hub.Unregister(sub)
	if !sub.SetFloor(first.ID) {
		t.Fatal("SetFloor = false")
	}
	var missed []int64
	for range 3 {
		n, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "during"})
		if err != nil {
			t.Fatal(err)
		}
		missed = append(missed, n.ID)
	}
	p.Start(t)
	testkit.Eventually(t, "listener back", b.l.Connected)
	// The replay (after_id = 0) sent only the first row; the catch-up
	// held the others for the socket.
	sub.GoLive(first.ID)
	var got []int64
	wait, cancel := context.WithTimeout(ctx, testkit.Timeout)
	defer cancel()
	for len(got) < len(missed) {
		f, err := notifytest.Next(wait, sub)
		if err != nil {
			t.Fatalf("got %v, want %v (%v)", got, missed, err)
		}
		if f.ID != 0 {
			got = append(got, f.ID)
		}
	}
	testkit.CheckExactlyOnce(t, "replaying socket", got, missed)
}

func TestCatchUpTooLongClosesSockets(t *testing.T) {
	t.Parallel()
	a, b, p := proxiedPair(t, nodeOptions{queue: 8})
	alice, aliceSess := testkit.StoreUser(t, a.st, "alice")
	bob, bobSess := testkit.StoreUser(t, a.st, "bob")
	sa := b.connect(t, alice, aliceSess)
	sb := b.connect(t, bob, bobSess)
	ctx := context.Background()

	p.Stop()
	testkit.Eventually(t, "listener down", func() bool { return !b.l.Connected() })
	for i := range 12 {
		if _, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "many"}); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if _, err := a.svc.Notify(ctx, bob, notify.NewNotification{Title: "few"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.Start(t)
	// More than a queue holds: alice resumes with after_id instead.
	if code := sa.closedWith(t); code != notify.CloseQueueFull {
		t.Fatalf("alice closed with %d, want %d", code, notify.CloseQueueFull)
	}
	testkit.Eventually(t, "bob's two", func() bool { return len(sb.IDs()) == 2 })
	testkit.CheckExactlyOnce(t, "bob", sb.IDs(), dbIDs(t, a.st, bob))
	if m := sb.WaitType(t, "unread_count"); *m.UnreadCount != 2 {
		t.Fatalf("bob's unread_count = %d", *m.UnreadCount)
	}
}

func TestLogoutDuringOutage(t *testing.T) {
	t.Parallel()
	a, b, p := proxiedPair(t, nodeOptions{})
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	otherSess := testkit.StoreSession(t, a.st, alice, "alice's phone")
	s := b.connect(t, alice, sess)
	kept := b.connect(t, alice, otherSess) // another session, still valid
	byToken := b.connect(t, alice, 0)      // a token's socket has no session
	ctx := context.Background()

	p.Stop()
	testkit.Eventually(t, "listener down", func() bool { return !b.l.Connected() })
	if err := a.st.DeleteSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	a.svc.CloseSession(ctx, sess) // B does not hear this doorbell
	p.Start(t)
	if code := s.closedWith(t); code != notify.CloseUnauthorized {
		t.Fatalf("closed with %d, want %d", code, notify.CloseUnauthorized)
	}
	// The catch-up is over once a later notification arrives.
	if _, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "after"}); err != nil {
		t.Fatal(err)
	}
	kept.WaitType(t, "notification")
	byToken.WaitType(t, "notification")
	for name, sock := range map[string]*socket{"a valid session": kept, "a token": byToken} {
		select {
		case <-sock.sub.Done():
			t.Fatalf("the socket of %s was closed", name)
		default:
		}
	}
}
