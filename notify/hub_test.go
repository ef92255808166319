package notify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// register registers a socket and fails the test on error.
func register(tb testing.TB, h *notify.Hub, userID, sessionID int64) *notify.Subscriber {
	tb.Helper()
	s, err := h.Register(userID, sessionID)
	if err != nil {
		tb.Fatalf("Register(%d, %d): %v", userID, sessionID, err)
	}
	return s
}

// notification is a "notification" frame for id, labelled "n<id>".
func notification(id int64) notify.Frame {
	return notify.Frame{ID: id, Data: fmt.Appendf(nil, "n%d", id)}
}

// other is a frame without a notification id (an update, an event...).
func other(label string) notify.Frame { return notify.Frame{Data: []byte(label)} }

func closed(s *notify.Subscriber) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

func TestHubRegisterLimits(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := notify.NewHub(notify.HubConfig{SendQueue: 4, MaxPerUser: 2})
	a := register(t, h, 1, 10)
	register(t, h, 1, 11)
	tests := []struct {
		name   string
		userID int64
		code   string
	}{
		{"third socket of a user", 1, notify.ERATELIMIT},
		{"another user", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Register(tt.userID, 20)
			if got := notify.ErrorCode(err); got != tt.code {
				t.Fatalf("Register error code = %q, want %q", got, tt.code)
			}
		})
	}
	h.Unregister(a)
	h.Unregister(a) // a second call changes nothing
	if n := h.UserCount(1); n != 1 {
		t.Fatalf("UserCount = %d, want 1", n)
	}
	if n := h.Count(); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	register(t, h, 1, 12) // the freed place
}

// TestHubRegisterLimitIsAtomic races many connects of one user: exactly
// MaxPerUser succeed.
func TestHubRegisterLimitIsAtomic(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := notify.NewHub(notify.HubConfig{SendQueue: 4, MaxPerUser: 16})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 64 {
		wg.Go(func() {
			_, err := h.Register(7, int64(i))
			mu.Lock()
			codes[notify.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[""] != 16 || codes[notify.ERATELIMIT] != 48 {
		t.Fatalf("results = %v, want 16 registered and 48 rate_limited", codes)
	}
}

func TestHubPublishOrderAndDedup(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name    string
		before  []notify.Frame // published between Register and GoLive
		cursor  int64
		after   []notify.Frame // published once live
		want    []string
		wantCur int64
	}{
		{
			name:  "live from the start keeps order",
			after: []notify.Frame{notification(1), other("u"), notification(2), notification(3)},
			want:  []string{"n1", "u", "n2", "n3"}, wantCur: 3,
		},
		{
			name:   "held frames at or below the cursor are dropped",
			before: []notify.Frame{notification(4), other("u"), notification(5), notification(6)},
			cursor: 5,
			want:   []string{"u", "n6"}, wantCur: 6,
		},
		{
			name:   "held frames above the cursor come before live ones",
			before: []notify.Frame{notification(6)},
			cursor: 5,
			after:  []notify.Frame{notification(7)},
			want:   []string{"n6", "n7"}, wantCur: 7,
		},
		{
			name:   "live duplicates and older ids are dropped",
			cursor: 5,
			after:  []notify.Frame{notification(5), notification(3), notification(6), notification(6), other("e")},
			want:   []string{"n6", "e"}, wantCur: 6,
		},
		{
			name:   "frames without id are never dropped",
			before: []notify.Frame{other("a")},
			cursor: 100,
			after:  []notify.Frame{other("b")},
			want:   []string{"a", "b"}, wantCur: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := notify.NewHub(notify.HubConfig{SendQueue: 8, MaxPerUser: 4})
			s := register(t, h, 1, 1)
			bystander := register(t, h, 2, 2)
			for _, f := range tt.before {
				if n := h.Publish(1, f); n != 1 {
					t.Fatalf("Publish offered to %d sockets, want 1", n)
				}
			}
			if got := takeAll(s); len(got) != 0 {
				t.Fatalf("queued before GoLive: %v", got)
			}
			s.GoLive(tt.cursor)
			for _, f := range tt.after {
				h.Publish(1, f)
			}
			if got := takeAll(s); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("queued %v, want %v", got, tt.want)
			}
			if got := s.Cursor(); got != tt.wantCur {
				t.Errorf("Cursor = %d, want %d", got, tt.wantCur)
			}
			bystander.GoLive(0)
			if got := takeAll(bystander); len(got) != 0 {
				t.Errorf("another user's socket got %v", got)
			}
		})
	}
}

func TestHubQueueFull(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name string
		live bool
	}{
		{"live", true},
		{"while replaying", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := notify.NewHub(notify.HubConfig{SendQueue: 2, MaxPerUser: 4})
			slow := register(t, h, 1, 1)
			fine := register(t, h, 2, 2)
			fine.GoLive(0)
			if tt.live {
				slow.GoLive(0)
			}
			// Nobody drains slow: the third frame overflows. Publish
			// returns at once every time.
			for id := int64(1); id <= 5; id++ {
				h.Publish(1, notification(id))
			}
			if !closed(slow) {
				t.Fatal("overflowing socket not closed")
			}
			if why, _ := slow.CloseReason(); why != notify.CloseQueueFull {
				t.Fatalf("CloseReason = %v, want %v", why, notify.CloseQueueFull)
			}
			slow.GoLive(0) // no effect once closed
			h.Publish(2, notification(9))
			if closed(fine) {
				t.Fatal("another user's socket was closed")
			}
			if got := takeAll(fine); fmt.Sprint(got) != "[n9]" {
				t.Fatalf("other socket got %v, want [n9]", got)
			}
		})
	}
}

func TestHubCloseSession(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := notify.NewHub(notify.HubConfig{SendQueue: 4, MaxPerUser: 4})
	tab1 := register(t, h, 1, 10)
	tab2 := register(t, h, 1, 10)
	otherSession := register(t, h, 1, 11)
	if n := h.CloseSession(10, notify.CloseUnauthorized, "session revoked"); n != 2 {
		t.Fatalf("CloseSession = %d, want 2", n)
	}
	for _, s := range []*notify.Subscriber{tab1, tab2} {
		if !closed(s) {
			t.Fatal("socket of the revoked session not closed")
		}
		if why, reason := s.CloseReason(); why != notify.CloseUnauthorized || reason != "session revoked" {
			t.Fatalf("CloseReason = %v %q", why, reason)
		}
	}
	if closed(otherSession) {
		t.Fatal("socket of another session closed")
	}
	// The first close wins.
	otherSession.Close(notify.CloseQueueFull, "send queue full")
	h.CloseSession(11, notify.CloseUnauthorized, "session revoked")
	if why, _ := otherSession.CloseReason(); why != notify.CloseQueueFull {
		t.Fatalf("CloseReason = %v, want the first one, %v", why, notify.CloseQueueFull)
	}
	if n := h.CloseSession(99, notify.CloseUnauthorized, ""); n != 0 {
		t.Fatalf("CloseSession of an unknown session = %d", n)
	}
}

func TestHubShutdown(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Run("waits for the owners", func(t *testing.T) {
		h := notify.NewHub(notify.HubConfig{SendQueue: 4, MaxPerUser: 4})
		var owners sync.WaitGroup
		var subs []*notify.Subscriber
		for i := range 3 {
			s := register(t, h, int64(i%2), int64(i))
			subs = append(subs, s)
			// The owner closes its socket, then unregisters.
			owners.Go(func() {
				<-s.Done()
				h.Unregister(s)
			})
		}
		if err := h.Shutdown(context.Background(), notify.CloseGoingAway, "server shutting down"); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		// Shutdown returned only once every owner had unregistered.
		if n := h.Count(); n != 0 {
			t.Fatalf("Count after Shutdown = %d, want 0", n)
		}
		owners.Wait()
		for _, s := range subs {
			if why, _ := s.CloseReason(); why != notify.CloseGoingAway {
				t.Fatalf("CloseReason = %v, want %v", why, notify.CloseGoingAway)
			}
		}
		_, err := h.Register(1, 1)
		if notify.ErrorCode(err) != notify.EUNAVAILABLE {
			t.Fatalf("Register after Shutdown: %v, want %s", err, notify.EUNAVAILABLE)
		}
		if err := h.Shutdown(context.Background(), notify.CloseGoingAway, ""); err != nil {
			t.Fatalf("second Shutdown: %v", err)
		}
	})
	t.Run("respects its context", func(t *testing.T) {
		h := notify.NewHub(notify.HubConfig{SendQueue: 4, MaxPerUser: 4})
		stuck := register(t, h, 1, 1) // its owner has not unregistered yet
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := h.Shutdown(ctx, notify.CloseGoingAway, "server shutting down")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Shutdown = %v, want context.Canceled", err)
		}
		if !closed(stuck) {
			t.Fatal("socket not asked to close")
		}
		h.Unregister(stuck)
		if err := h.Shutdown(context.Background(), notify.CloseGoingAway, ""); err != nil {
			t.Fatalf("Shutdown once drained: %v", err)
		}
	})
	t.Run("empty hub", func(t *testing.T) {
		h := notify.NewHub(notifytest.HubConfig())
		if err := h.Shutdown(context.Background(), notify.CloseGoingAway, ""); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	})
}
