package notify

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestChangedSince: a publish, a catch-up or a close of a user's sockets
// moves the user's mark; another user's publish does not (its slot is
// another), and nothing moves it back.
func TestChangedSince(t *testing.T) {
	const alice, bob, sess, other = 1, 2, 7, 8
	tests := []struct {
		name string
		act  func(h *Hub)
		want bool
		// session: ask SessionChangedSince(sess) instead of ChangedSince(alice)
		session bool
	}{
		{"nothing", func(*Hub) {}, false, false},
		{"another user's publish", func(h *Hub) { h.Publish(bob, Frame{ID: 1}) }, false, false},
		{"publish", func(h *Hub) { h.Publish(alice, Frame{ID: 1}) }, true, false},
		{"catch-up", func(h *Hub) {
			h.PublishCatchUp([]Notification{{ID: 1, UserID: alice}}, map[int64]int64{alice: 1}, 10)
		}, true, false},
		{"close the user's sockets", func(h *Hub) { h.CloseUser(alice, CloseQueueFull, "x") }, true, false},
		{"publish, then another user's", func(h *Hub) {
			h.Publish(alice, Frame{ID: 1})
			h.Publish(bob, Frame{ID: 2})
		}, true, false},
		// A session's revocation moves its slot; another session's (a
		// different slot) or a publish to its user does not.
		{"session: nothing", func(*Hub) {}, false, true},
		{"session: another session revoked", func(h *Hub) { h.CloseSession(other, CloseUnauthorized, "x") }, false, true},
		{"session: a publish to its user", func(h *Hub) { h.Publish(alice, Frame{ID: 1}) }, false, true},
		{"session: revoked", func(h *Hub) { h.CloseSession(sess, CloseUnauthorized, "x") }, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(HubConfig{SendQueue: 8, MaxPerUser: 8})
			// Before the mark: not a change since.
			h.Publish(alice, Frame{ID: 1})
			h.CloseSession(sess, CloseUnauthorized, "x")
			mark := h.Mark()
			tt.act(h)
			got := h.ChangedSince(alice, mark)
			if tt.session {
				got = h.SessionChangedSince(sess, mark)
			}
			if got != tt.want {
				t.Errorf("changed since the mark = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMarksProveEarlyReads runs the connect of a socket without after_id
// against a publisher, with a counter as the database: mark, read the
// newest id, Register, and read again only when ChangedSince says so.
// Every socket must then get every id above the cursor it went live at,
// once each, in order.
func TestMarksProveEarlyReads(t *testing.T) {
	const user, published, sockets = 7, 2000, 200
	h := NewHub(HubConfig{SendQueue: published + 1, MaxPerUser: sockets})
	var committed atomic.Int64 // the user's newest committed id
	var wg sync.WaitGroup
	wg.Go(func() {
		for range published {
			// Commit, then publish: one publisher, in id order, as under
			// the Service's user lock.
			id := committed.Add(1)
			runtime.Gosched() // between the commit and the publish
			h.Publish(user, Frame{ID: id})
			runtime.Gosched()
		}
	})
	type socket struct {
		sub    *Subscriber
		cursor int64
	}
	subs := make([]socket, sockets)
	for i := range subs {
		wg.Go(func() {
			for range i * published / sockets { // spread the connects over the publishes
				runtime.Gosched()
			}
			mark := h.Mark()
			newest := committed.Load()
			for range 4 { // the read's round trip
				runtime.Gosched()
			}
			sub, err := h.Register(user, 0)
			if err != nil {
				t.Error(err)
				return
			}
			if h.ChangedSince(user, mark) {
				newest = committed.Load()
			}
			sub.GoLive(newest)
			subs[i] = socket{sub, newest}
		})
	}
	wg.Wait()
	for i, s := range subs {
		if s.sub == nil {
			continue
		}
		want := s.cursor + 1
		for {
			f, ok := s.sub.Next()
			if !ok {
				break
			}
			if f.ID != want {
				t.Fatalf("socket %d (live at %d): got id %d, want %d", i, s.cursor, f.ID, want)
			}
			want++
		}
		if want != published+1 {
			t.Fatalf("socket %d (live at %d): ids end at %d, want %d", i, s.cursor, want-1, published)
		}
	}
}
