package notify_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// Inserts whose outcome is unknown (settle.go), on the real store: SQLite,
// or Postgres with NOTIFYD_TEST_DATABASE_URL.

// lostAnswerStore is the real store whose next InsertBatch, once armed,
// reports EUNAVAILABLE after committing (the database's answer was lost)
// or without writing anything; and whose NotificationsAfter can be made
// to fail.
type lostAnswerStore struct {
	*store.Store

	mu        sync.Mutex
	armed     bool
	commit    bool // the armed insert commits before failing
	failReads int  // NotificationsAfter calls still to fail
}

// newLostAnswerService returns a Service over a fresh lostAnswerStore
// and its hub, checked for leaks and closed when the test ends.
func newLostAnswerService(tb testing.TB) (*lostAnswerStore, *notify.Hub, *notify.Service) {
	tb.Helper()
	noLeaks(tb)
	st := &lostAnswerStore{Store: storetest.Open(tb)}
	hub := notify.NewHub(notify.HubConfig{SendQueue: 100, MaxPerUser: 16})
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notifytest.BatchConfig(), nil, nil)
	tb.Cleanup(func() { closeService(tb, svc) })
	return st, hub, svc
}

func (l *lostAnswerStore) arm(commit bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed, l.commit = true, commit
}

func (l *lostAnswerStore) failNextReads(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failReads = n
}

func (l *lostAnswerStore) InsertBatch(ctx context.Context, items []notify.NewItem, claims []notify.Claim, now time.Time) ([]notify.Inserted, []notify.ClaimOutcome, error) {
	l.mu.Lock()
	armed, commit := l.armed, l.commit
	l.armed = false
	l.mu.Unlock()
	if !armed {
		return l.Store.InsertBatch(ctx, items, claims, now)
	}
	if commit {
		if _, _, err := l.Store.InsertBatch(ctx, items, claims, now); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, notify.Errorf(notify.EUNAVAILABLE, "database answer lost")
}

func (l *lostAnswerStore) NotificationsAfter(ctx context.Context, after map[int64]int64, limit int) ([]notify.Notification, error) {
	l.mu.Lock()
	fail := l.failReads > 0
	if fail {
		l.failReads--
	}
	l.mu.Unlock()
	if fail {
		return nil, notify.Errorf(notify.EUNAVAILABLE, "database not answering")
	}
	return l.Store.NotificationsAfter(ctx, after, limit)
}

// TestUnknownOutcomeReachesOpenSocket: a notification whose insert failed
// but committed reaches the user's open socket in id order, before the
// next notification of that user, or by itself when none follows; the
// loop that retries the catch-up stops once nothing is unsettled.
func TestUnknownOutcomeReachesOpenSocket(t *testing.T) {
	cases := []struct {
		name      string
		commit    bool // the failed insert was stored
		next      bool // another notification follows
		failReads int  // catch-up reads that fail first
	}{
		{name: "stored, before the next notification", commit: true, next: true},
		{name: "stored, no next notification", commit: true},
		{name: "stored, catch-up read fails at first", commit: true, next: true, failReads: 2},
		{name: "not stored, next notification", next: true},
		{name: "not stored, no next notification"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, hub, svc := newLostAnswerService(t)
			ctx := context.Background()
			alice := storetest.User(t, st.Store, "alice")
			bob := storetest.User(t, st.Store, "bob")
			sockets := []*notify.Subscriber{register(t, hub, alice.ID, 1), register(t, hub, alice.ID, 2)}
			for _, s := range sockets {
				s.GoLive(0)
			}
			bobSocket := register(t, hub, bob.ID, 3)
			bobSocket.GoLive(0)

			first, err := svc.Notify(ctx, alice.ID, notify.NewNotification{Title: "first"})
			if err != nil {
				t.Fatal(err)
			}
			st.arm(c.commit)
			st.failNextReads(c.failReads)
			if _, err := svc.NotifyMany(ctx, []int64{alice.ID, bob.ID}, notify.NewNotification{Title: "lost answer"}); notify.ErrorCode(err) != notify.EUNAVAILABLE {
				t.Fatalf("NotifyMany with the answer lost: %v, want %s", err, notify.EUNAVAILABLE)
			}
			var want []string
			if c.commit {
				want = append(want, "lost answer")
			}
			if c.next {
				if _, err := svc.Notify(ctx, alice.ID, notify.NewNotification{Title: "next"}); err != nil {
					t.Fatal(err)
				}
				want = append(want, "next")
			}

			stored := storedNotifications(t, st.Store, alice.ID)
			if len(stored) != 1+len(want) || stored[0].ID != first.ID {
				t.Fatalf("alice has %d notifications stored, want %d", len(stored), 1+len(want))
			}
			for i, s := range sockets {
				got := waitNotifications(t, s, 1+len(want))
				checkReceived(t, fmt.Sprintf("socket %d", i), got, stored)
			}
			if c.commit {
				got := waitNotifications(t, bobSocket, 1)
				checkReceived(t, "bob's socket", got, storedNotifications(t, st.Store, bob.ID))
			}

			// Settled: the loop ends by itself, and nothing more comes.
			waitSettled(t, svc)
			for i, s := range append(sockets, bobSocket) {
				if extra := drainNotifications(t, s); len(extra) > 0 {
					t.Fatalf("socket %d got %v after settling", i, extra)
				}
			}
		})
	}
}

func closeService(tb testing.TB, svc *notify.Service) {
	tb.Helper()
	if err := svc.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// waitNotifications waits for n notification frames on s.
func waitNotifications(tb testing.TB, s *notify.Subscriber, n int) []received {
	tb.Helper()
	var out []received
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(out) < n {
		f, err := notifytest.Next(ctx, s)
		if err != nil {
			tb.Fatalf("socket got %v within 10s, want %d notifications (%v)", out, n, err)
		}
		out = append(out, decodeNotification(tb, f))
	}
	return out
}

// checkReceived checks that a socket got exactly the stored notifications,
// in id order.
func checkReceived(tb testing.TB, who string, got []received, stored []notify.Notification) {
	tb.Helper()
	ids := make([]int64, len(got))
	for i, r := range got {
		ids[i] = r.ID
	}
	want := make([]int64, len(stored))
	for i, n := range stored {
		want[i] = n.ID
	}
	if !slices.Equal(ids, want) {
		tb.Fatalf("%s got ids %v, want %v", who, ids, want)
	}
}

// waitSettled waits until no user is unsettled and the retry loop ended.
func waitSettled(tb testing.TB, svc *notify.Service) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		users, running := svc.Unsettled()
		if users == 0 && !running {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after 10s: %d users unsettled, loop running %v", users, running)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
