package cluster_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

func TestTwoNodesDeliverEveryNotificationOnce(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	alice, aliceSess := testkit.StoreUser(t, a.st, "alice")
	bob, bobSess := testkit.StoreUser(t, a.st, "bob")
	sockets := map[string]*socket{
		"alice on A": a.connect(t, alice, aliceSess),
		"alice on B": b.connect(t, alice, aliceSess),
		"bob on B":   b.connect(t, bob, bobSess),
	}
	owner := map[string]int64{"alice on A": alice, "alice on B": alice, "bob on B": bob}

	// Publishers on both nodes at once, single and bulk.
	const each = 60
	var wg sync.WaitGroup
	for _, n := range []*node{a, b} {
		wg.Go(func() {
			for i := range each {
				var err error
				if i%3 == 0 {
					_, err = n.svc.NotifyMany(context.Background(), []int64{alice, bob}, notify.NewNotification{Title: "bulk"})
				} else {
					uid := []int64{alice, bob}[i%2]
					_, err = n.svc.Notify(context.Background(), uid, notify.NewNotification{Title: "one"})
				}
				if err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for name, s := range sockets {
		want := dbIDs(t, a.st, owner[name])
		testkit.Eventually(t, name+" has every notification", func() bool { return len(s.IDs()) >= len(want) })
		testkit.CheckExactlyOnce(t, name, s.IDs(), want)
	}
}

func TestChangesReachOtherNode(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	s := b.connect(t, alice, sess)
	ctx := context.Background()

	n1, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "first"})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "second"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "both notifications", func() bool { return len(s.IDs()) == 2 })
	// Found by id, not by position: on a loaded box a doorbell late past
	// cluster.gap_wait makes b repair from the database, which may put an
	// unread_count frame (no notification) between the two.
	frames := s.Frames()
	i := slices.IndexFunc(frames, func(m testkit.Frame) bool { return m.Notification != nil && m.Notification.ID == n2.ID })
	if i < 0 || frames[i].Notification.Title != "second" || frames[i].UnreadCount == nil || *frames[i].UnreadCount != 2 {
		t.Fatalf("frames = %+v, want the second notification with unread_count 2", frames)
	}

	steps := []struct {
		name  string
		do    func() error
		typ   string
		check func(m testkit.Frame) bool
	}{
		{"read", func() error { _, err := a.svc.SetRead(ctx, alice, n1.ID, true); return err },
			"notification_updated", func(m testkit.Frame) bool {
				return m.Notification.ID == n1.ID && m.Notification.Read && *m.UnreadCount == 1
			}},
		{"unread", func() error { _, err := a.svc.SetRead(ctx, alice, n1.ID, false); return err },
			"notification_updated", func(m testkit.Frame) bool {
				return m.Notification.ID == n1.ID && !m.Notification.Read && *m.UnreadCount == 2
			}},
		{"read all", func() error { _, err := a.svc.MarkAllRead(ctx, alice, n1.ID); return err },
			"notifications_read", func(m testkit.Frame) bool { return *m.UnreadCount == 1 }},
		{"delete", func() error { return a.svc.Delete(ctx, alice, n2.ID) },
			"notification_deleted", func(m testkit.Frame) bool { return m.ID == n2.ID && *m.UnreadCount == 0 }},
		{"event", func() error {
			_, err := a.svc.SendEvent(ctx, alice, notify.Event{Type: "task_progress", Data: json.RawMessage(`{"progress":0.5}`)})
			return err
		}, "event", func(m testkit.Frame) bool {
			return m.Event.Type == "task_progress" && string(m.Event.Data) == `{"progress":0.5}`
		}},
		{"event too large for a payload", func() error {
			data, _ := json.Marshal(map[string]string{"blob": strings.Repeat("x", 9000)})
			_, err := a.svc.SendEvent(ctx, alice, notify.Event{Type: "big", Data: data})
			return err
		}, "event", func(m testkit.Frame) bool { return m.Event.Type == "big" && len(m.Event.Data) > 9000 }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := len(s.Frames())
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, st.typ, func() bool { return len(s.Frames()) > before })
			m := s.Frames()[before]
			if m.Type != st.typ || !st.check(m) {
				t.Fatalf("got %+v", m)
			}
		})
	}

	t.Run("logout", func(t *testing.T) {
		// The session row goes first, as in Accounts.Logout.
		if err := a.st.DeleteSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		a.svc.CloseSession(ctx, sess)
		if code := s.closedWith(t); code != notify.CloseUnauthorized {
			t.Fatalf("closed with %d, want %d", code, notify.CloseUnauthorized)
		}
	})
}

func TestListenerConnectionKilledWhilePublishing(t *testing.T) {
	t.Parallel()
	db, a, b := twoNodes(t)
	alice, aliceSess := testkit.StoreUser(t, a.st, "alice")
	bob, bobSess := testkit.StoreUser(t, a.st, "bob")
	onA := a.connect(t, alice, aliceSess)
	onB := b.connect(t, alice, aliceSess)
	bobOnB := b.connect(t, bob, bobSess)

	pa := publish(t, a.svc, []int64{alice, bob})
	pb := publish(t, b.svc, []int64{bob, alice})
	for range 5 {
		// Each round waits for something to be published, kills both
		// listener connections, and waits until both are back.
		before := len(onB.IDs())
		testkit.Eventually(t, "progress", func() bool { return len(onB.IDs()) > before+5 })
		if n := testkit.TerminateListeners(t, db.URL); n != 2 {
			t.Fatalf("terminated %d listener connections, want 2", n)
		}
		testkit.Eventually(t, "listeners back", func() bool { return a.l.Connected() && b.l.Connected() })
	}
	pa.halt()
	pb.halt()

	for name, c := range map[string]struct {
		s   *socket
		uid int64
	}{"alice on A": {onA, alice}, "alice on B": {onB, alice}, "bob on B": {bobOnB, bob}} {
		want := dbIDs(t, a.st, c.uid)
		testkit.Eventually(t, name+" has every notification", func() bool { return len(c.s.IDs()) >= len(want) })
		testkit.CheckExactlyOnce(t, name, c.s.IDs(), want)
		// After each catch-up the socket got the fresh count.
		c.s.WaitType(t, "unread_count")
	}
}
