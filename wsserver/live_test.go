package wsserver

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

func TestLiveNotificationsReachEveryTabOfTheUserOnly(t *testing.T) {
	e, alice, aliceSecret := newEnvAs(t, "alice")
	bob, _, bobSecret := e.Session(t, "bob")
	tab1 := e.connect(t, testkit.SecretAuth(aliceSecret, -1))
	tab2 := e.connect(t, aliceSecret)
	bobTab := e.connect(t, bobSecret)

	var sent []notify.Notification
	for i := range 5 {
		sent = append(sent, e.Notify(t, alice.ID, fmt.Sprintf("n%d", i)))
	}
	for name, tab := range map[string]*testkit.Socket{"tab1": tab1, "tab2": tab2} {
		for i, want := range sent {
			f := tab.NextNotification(t)
			if f.Notification.ID != want.ID || f.Notification.Title != want.Title {
				t.Fatalf("%s frame %d = %+v, want %+v", name, i, f.Notification, want)
			}
			if f.UnreadCount == nil || *f.UnreadCount != int64(i+1) {
				t.Errorf("%s frame %d unread_count = %v, want %d", name, i, f.UnreadCount, i+1)
			}
		}
	}
	// Alice's notifications were queued before Bob's; had one reached his
	// socket it would come first.
	own := e.Notify(t, bob.ID, "for bob")
	if f := bobTab.NextNotification(t); f.Notification.ID != own.ID {
		t.Fatalf("bob got notification %d, want only his own %d", f.Notification.ID, own.ID)
	}
}

func TestChangeFrames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _, secret := e.Session(t, "alice")
	bob, _, bobSecret := e.Session(t, "bob")
	n1 := e.Notify(t, alice.ID, "one")
	n2 := e.Notify(t, alice.ID, "two")
	n3 := e.Notify(t, alice.ID, "three")
	c := e.connect(t, secret)
	bobTab := e.connect(t, bobSecret)

	check := func(t *testing.T, f testkit.Frame, typ string, unread int64) {
		t.Helper()
		if f.Type != typ {
			t.Fatalf("frame = %+v, want type %q", f, typ)
		}
		if f.UnreadCount == nil || *f.UnreadCount != unread {
			t.Errorf("unread_count = %v, want %d", f.UnreadCount, unread)
		}
	}
	steps := []struct {
		name   string
		change func() error
		check  func(t *testing.T, f testkit.Frame)
	}{
		{"read", func() error { _, err := e.Service.SetRead(ctx, alice.ID, n1.ID, true); return err },
			func(t *testing.T, f testkit.Frame) {
				check(t, f, "notification_updated", 2)
				if f.Notification == nil || f.Notification.ID != n1.ID || !f.Notification.Read || f.Notification.ReadAt == nil {
					t.Errorf("notification = %+v, want %d read", f.Notification, n1.ID)
				}
			}},
		{"unread", func() error { _, err := e.Service.SetRead(ctx, alice.ID, n1.ID, false); return err },
			func(t *testing.T, f testkit.Frame) {
				check(t, f, "notification_updated", 3)
				if f.Notification == nil || f.Notification.ID != n1.ID || f.Notification.Read {
					t.Errorf("notification = %+v, want %d unread", f.Notification, n1.ID)
				}
			}},
		{"read up to", func() error { _, err := e.Service.MarkAllRead(ctx, alice.ID, n2.ID); return err },
			func(t *testing.T, f testkit.Frame) {
				check(t, f, "notifications_read", 1)
				if f.UpToID == nil || *f.UpToID != n2.ID {
					t.Errorf("up_to_id = %v, want %d", f.UpToID, n2.ID)
				}
			}},
		{"read all", func() error { _, err := e.Service.MarkAllRead(ctx, alice.ID, 0); return err },
			func(t *testing.T, f testkit.Frame) {
				check(t, f, "notifications_read", 0)
				if f.UpToID != nil {
					t.Errorf("up_to_id = %d, want null", *f.UpToID)
				}
			}},
		{"delete", func() error { return e.Service.Delete(ctx, alice.ID, n3.ID) },
			func(t *testing.T, f testkit.Frame) {
				check(t, f, "notification_deleted", 0)
				if f.ID != n3.ID {
					t.Errorf("id = %d, want %d", f.ID, n3.ID)
				}
			}},
		{"event", func() error {
			_, err := e.Service.SendEvent(ctx, alice.ID, notify.Event{Type: "task_progress", Data: json.RawMessage(`{"task_id":7,"progress":0.5}`)})
			return err
		}, func(t *testing.T, f testkit.Frame) {
			if f.Type != "event" || f.Event == nil || f.Event.Type != "task_progress" {
				t.Fatalf("frame = %+v, want a task_progress event", f)
			}
			if string(f.Event.Data) != `{"task_id":7,"progress":0.5}` {
				t.Errorf("event data = %s", f.Event.Data)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.change(); err != nil {
				t.Fatal(err)
			}
			s.check(t, c.Next(t))
		})
	}
	// None of Alice's changes reached Bob.
	own := e.Notify(t, bob.ID, "for bob")
	if f := bobTab.Next(t); f.Notification == nil || f.Notification.ID != own.ID {
		t.Fatalf("bob got %+v, want only his own notification %d", f, own.ID)
	}
}
