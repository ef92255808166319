package wsserver

import (
	"fmt"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

// ids returns the ids of ns.
func ids(ns []notify.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// readNotifications reads n notification messages and returns their ids.
func readNotifications(tb testing.TB, c *testkit.Socket, n int) []int64 {
	tb.Helper()
	out := make([]int64, 0, n)
	for range n {
		out = append(out, c.NextNotification(tb).Notification.ID)
	}
	return out
}

func equalIDs(a, b []int64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestResume(t *testing.T) {
	e := newEnv(t, func(ec *envConfig) { ec.ws.MaxReplay = 3 })
	tests := []struct {
		name   string
		after  func(ns []notify.Notification) int64
		replay func(ns []notify.Notification) []notify.Notification
		resync bool
	}{
		{"after the second", func(ns []notify.Notification) int64 { return ns[1].ID },
			func(ns []notify.Notification) []notify.Notification { return ns[2:] }, false},
		{"after the newest", func(ns []notify.Notification) int64 { return ns[4].ID },
			func([]notify.Notification) []notify.Notification { return nil }, false},
		{"after an id beyond the newest", func(ns []notify.Notification) int64 { return ns[4].ID + 1000 },
			func([]notify.Notification) []notify.Notification { return nil }, false},
		{"one more than max_replay", func(ns []notify.Notification) int64 { return ns[0].ID }, nil, true},
		{"after 0 with too many", func([]notify.Notification) int64 { return 0 }, nil, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, secret := e.Session(t, fmt.Sprintf("user%d", i))
			var ns []notify.Notification
			for j := range 5 {
				ns = append(ns, e.Notify(t, u.ID, fmt.Sprintf("n%d", j)))
			}
			c := e.connect(t, testkit.SecretAuth(secret, tt.after(ns)))
			if tt.resync {
				if f := c.Next(t); f.Type != "resync" {
					t.Fatalf("got %+v, want resync", f)
				}
			} else {
				want := ids(tt.replay(ns))
				if got := readNotifications(t, c, len(want)); !equalIDs(got, want) {
					t.Fatalf("replayed %v, want %v", got, want)
				}
			}
			// Then live, with no repeat of what was replayed.
			live := e.Notify(t, u.ID, "live")
			if f := c.NextNotification(t); f.Notification.ID != live.ID {
				t.Fatalf("after replay got %d, want live %d", f.Notification.ID, live.ID)
			}
		})
	}
}

func TestResumeAfterZeroReplaysEverything(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice", func(ec *envConfig) { ec.ws.MaxReplay = 3 })
	var ns []notify.Notification
	for j := range 3 {
		ns = append(ns, e.Notify(t, u.ID, fmt.Sprintf("n%d", j)))
	}
	c := e.connect(t, testkit.SecretAuth(secret, 0))
	if got := readNotifications(t, c, 3); !equalIDs(got, ids(ns)) {
		t.Fatalf("replayed %v, want %v", got, ids(ns))
	}
}

// TestResumeLongBacklog replays more rows than one store page holds.
func TestResumeLongBacklog(t *testing.T) {
	e := newEnv(t) // max_replay 1000
	u, _, secret := e.Session(t, "alice")
	var ns []notify.Notification
	for j := range 450 {
		ns = append(ns, e.Notify(t, u.ID, fmt.Sprintf("n%d", j)))
	}
	for _, after := range []int64{0, ns[9].ID} {
		t.Run(fmt.Sprintf("after %d", after), func(t *testing.T) {
			want := ids(ns)
			if after != 0 {
				want = want[10:]
			}
			c := e.connect(t, testkit.SecretAuth(secret, after))
			if got := readNotifications(t, c, len(want)); !equalIDs(got, want) {
				t.Fatalf("replayed %d rows, not the %d expected in order", len(got), len(want))
			}
			live := e.Notify(t, u.ID, "live")
			ns = append(ns, live)
			if f := c.NextNotification(t); f.Notification.ID != live.ID {
				t.Fatalf("after replay got %d, want live %d", f.Notification.ID, live.ID)
			}
		})
	}
}

// TestResumeWhilePublishing reconnects while notifications keep coming:
// what the first socket saw plus what the second replays and receives live
// is every notification, each once, in order.
func TestResumeWhilePublishing(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice")
	first := e.connect(t, secret)

	const total = 80
	var (
		mu        sync.Mutex
		published []int64
		done      = make(chan struct{})
	)
	go func() {
		defer close(done)
		for j := range total {
			n, err := e.Service.Notify(t.Context(), u.ID, notify.NewNotification{Title: fmt.Sprintf("n%d", j)})
			if err != nil {
				t.Errorf("notify: %v", err)
				return
			}
			mu.Lock()
			published = append(published, n.ID)
			mu.Unlock()
		}
	}()

	seen := readNotifications(t, first, 5)
	if err := first.Conn().Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close: %v", err)
	}
	second := e.connect(t, testkit.SecretAuth(secret, seen[len(seen)-1]))
	<-done
	mu.Lock()
	all := published
	mu.Unlock()
	if len(all) != total {
		t.FailNow()
	}
	if !equalIDs(seen, all[:5]) {
		t.Fatalf("first socket saw %v, want %v", seen, all[:5])
	}
	rest := readNotifications(t, second, total-5)
	if !equalIDs(rest, all[5:]) {
		t.Fatalf("second socket got %v, want %v", rest, all[5:])
	}
	// Nothing more: the next message is the pong to this ping.
	second.Send(t, `{"type":"ping"}`)
	if f := second.Next(t); f.Type != "pong" {
		t.Fatalf("got %+v after the last notification, want pong", f)
	}
}
