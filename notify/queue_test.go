package notify_test

import (
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// takeAll returns the labels of the frames Next hands out, until none.
func takeAll(s *notify.Subscriber) []string {
	var out []string
	for {
		f, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, string(f.Data))
	}
}

func TestSubscriberNextKeepsOrderAndBound(t *testing.T) {
	const queue = 8
	tests := []struct {
		name string
		// rounds of frames published before the owner takes some:
		// publish[i] frames, then take[i] of them.
		publish, take []int
		wantFull      bool
	}{
		{name: "one at a time", publish: []int{1, 1, 1}, take: []int{1, 1, 1}},
		{name: "grow to the bound", publish: []int{queue}, take: []int{queue}},
		{name: "wrap around", publish: []int{5, 5, 5, 3}, take: []int{3, 4, 6, 8}},
		{name: "one over the bound", publish: []int{queue + 1}, take: []int{0}, wantFull: true},
		{name: "over the bound later", publish: []int{6, 6}, take: []int{3, 0}, wantFull: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := notify.NewHub(notify.HubConfig{SendQueue: queue, MaxPerUser: 16})
			s := register(t, h, 1, 10)
			s.GoLive(0)
			var id int64
			var want, got []string
			for i, n := range tt.publish {
				for range n {
					id++
					f := notification(id)
					h.Publish(1, f)
					want = append(want, string(f.Data))
				}
				for range tt.take[i] {
					f, ok := s.Next()
					if !ok {
						break
					}
					got = append(got, string(f.Data))
				}
			}
			if closed(s) != tt.wantFull {
				t.Fatalf("closed = %v, want %v", closed(s), tt.wantFull)
			}
			if tt.wantFull {
				if why, _ := s.CloseReason(); why != notify.CloseQueueFull {
					t.Fatalf("CloseReason = %v, want %v", why, notify.CloseQueueFull)
				}
				if rest := takeAll(s); len(rest) != 0 {
					t.Fatalf("a closed subscriber still hands out %q", rest)
				}
				return
			}
			got = append(got, takeAll(s)...)
			if len(got) != len(want) {
				t.Fatalf("got %d frames %q, want %d", len(got), got, len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("frame %d = %q, want %q (all: %q)", i, got[i], want[i], got)
				}
			}
		})
	}
}

func TestSubscriberWake(t *testing.T) {
	h := notify.NewHub(notify.HubConfig{SendQueue: 4, MaxPerUser: 16})
	s := register(t, h, 1, 10)
	wakes := 0
	s.SetWake(func() { wakes++ })

	h.Publish(1, notification(1)) // held until GoLive: nothing to take yet
	if wakes != 0 {
		t.Fatalf("woken %d times while replaying, want 0", wakes)
	}
	s.GoLive(0)
	if wakes != 1 {
		t.Fatalf("woken %d times by GoLive with a held frame, want 1", wakes)
	}
	h.Publish(1, notification(1)) // a duplicate is dropped: no wake
	h.Publish(1, other("event"))
	if wakes != 2 {
		t.Fatalf("woken %d times, want 2", wakes)
	}
	if got := takeAll(s); len(got) != 2 || got[0] != "n1" || got[1] != "event" {
		t.Fatalf("frames = %q, want [n1 event]", got)
	}
	s.Close(notify.CloseGoingAway, "bye")
	if wakes != 3 {
		t.Fatalf("woken %d times after Close, want 3", wakes)
	}
}
