package notify_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

func TestCatchUpFloors(t *testing.T) {
	h := notify.NewHub(notify.HubConfig{SendQueue: 32, MaxPerUser: 4})

	live := register(t, h, 1, 10)
	live.GoLive(40)
	replaying := register(t, h, 1, 11)
	if !replaying.SetFloor(25) {
		t.Fatal("SetFloor before any catch-up = false")
	}
	unknown := register(t, h, 2, 12) // registered, newest id not read yet
	other := register(t, h, 3, 13)
	other.GoLive(7)
	gone := register(t, h, 4, 14)
	gone.Close(notify.CloseGoingAway, "")

	got := h.CatchUpFloors()
	want := map[int64]int64{1: 25, 3: 7} // the lowest of user 1's sockets; 2 unknown; 4 closed
	if !maps.Equal(got, want) {
		t.Fatalf("CatchUpFloors() = %v, want %v", got, want)
	}

	t.Run("a skipped socket reads its floor again", func(t *testing.T) {
		// The catch-up above skipped it: what it read before may lack rows
		// committed while the listener was down.
		if unknown.SetFloor(30) {
			t.Fatal("SetFloor after a catch-up skipped the socket = true, want false")
		}
		if !unknown.SetFloor(31) {
			t.Fatal("second SetFloor = false")
		}
		if f := h.CatchUpFloors()[2]; f != 31 {
			t.Fatalf("floor of user 2 = %d, want 31", f)
		}
	})

	t.Run("catch-up rows go through the cursor", func(t *testing.T) {
		// A catch-up publishes from the lowest floor; each socket drops
		// what it already has.
		for id := int64(26); id <= 42; id++ {
			h.Publish(1, notification(id))
		}
		if got := takeAll(live); !slices.Equal(got, []string{"n41", "n42"}) {
			t.Fatalf("live socket got %v, want [n41 n42]", got)
		}
		replaying.GoLive(35) // its replay ended at 35
		got := takeAll(replaying)
		if len(got) != 7 || got[0] != "n36" || got[6] != "n42" {
			t.Fatalf("replaying socket got %v, want n36..n42", got)
		}
	})

	t.Run("sessions and closing a user", func(t *testing.T) {
		ids := h.SessionIDs()
		slices.Sort(ids)
		if !slices.Equal(ids, []int64{10, 11, 12, 13, 14}) {
			t.Fatalf("SessionIDs() = %v", ids)
		}
		if n := h.CloseUser(1, notify.CloseQueueFull, "too many"); n != 2 {
			t.Fatalf("CloseUser = %d, want 2", n)
		}
		for _, s := range []*notify.Subscriber{live, replaying} {
			if why, _ := s.CloseReason(); !closed(s) || why != notify.CloseQueueFull {
				t.Fatalf("socket %d: closed %v for %v", s.ID, closed(s), why)
			}
		}
		if closed(other) {
			t.Fatal("another user's socket was closed")
		}
		if h.QueueSize() != 32 {
			t.Fatalf("QueueSize() = %d", h.QueueSize())
		}
	})
}
