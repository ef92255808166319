package cluster_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// message is what a test reads from a frame.
type message struct {
	Type         string `json:"type"`
	ID           int64  `json:"id"`
	UnreadCount  *int64 `json:"unread_count"`
	Notification *struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
		Read  bool   `json:"read"`
	} `json:"notification"`
	Event *struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	} `json:"event"`
}

// socket is a subscriber of a hub, live, with a goroutine that collects
// what is queued for it, as a websocket writer would.
type socket struct {
	sub  *notify.Subscriber
	stop context.CancelFunc // ends collect
	done chan struct{}

	mu   sync.Mutex
	msgs []message
}

// connect registers a live socket of userID in n's hub, at the user's
// newest id (a connection without after_id), as the websocket server's
// hello does: Register, Watch, read the position, SetFloor, Seen, GoLive.
func (n *node) connect(tb testing.TB, userID, sessionID int64) *socket {
	tb.Helper()
	sub, err := n.hub.Register(userID, sessionID)
	if err != nil {
		tb.Fatal(err)
	}
	release, err := n.svc.Watch(context.Background(), userID)
	if err != nil {
		tb.Fatal(err)
	}
	newest, seq, err := n.st.Position(context.Background(), userID)
	if err != nil {
		tb.Fatal(err)
	}
	for !sub.SetFloor(newest) {
		if newest, seq, err = n.st.Position(context.Background(), userID); err != nil {
			tb.Fatal(err)
		}
	}
	n.svc.Seen(userID, seq)
	sub.GoLive(newest)
	ctx, stop := context.WithCancel(context.Background())
	s := &socket{sub: sub, stop: stop, done: make(chan struct{})}
	go s.collect(ctx)
	tb.Cleanup(func() {
		s.stop()
		<-s.done
		n.hub.Unregister(sub)
		release()
	})
	return s
}

// collect takes the frames queued for the socket until ctx ends or the
// hub closes it.
func (s *socket) collect(ctx context.Context) {
	defer close(s.done)
	for {
		f, err := notifytest.Next(ctx, s.sub)
		if err != nil {
			return
		}
		var m message
		if err := json.Unmarshal(f.Data, &m); err != nil {
			m.Type = "undecodable: " + string(f.Data)
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, m)
		s.mu.Unlock()
	}
}

// messages returns a copy of what the socket got so far.
func (s *socket) messages() []message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// ids returns the ids of the "notification" messages, in arrival order.
func (s *socket) ids() []int64 {
	var out []int64
	for _, m := range s.messages() {
		if m.Type == "notification" {
			out = append(out, m.Notification.ID)
		}
	}
	return out
}

// waitMessage waits for a message of type typ and returns the last one.
func (s *socket) waitMessage(tb testing.TB, typ string) message {
	tb.Helper()
	var got message
	waitFor(tb, "a "+typ+" message", func() bool {
		for _, m := range s.messages() {
			if m.Type == typ {
				got = m
			}
		}
		return got.Type == typ
	})
	return got
}

// closedWith waits until the socket is told to close and returns the code.
func (s *socket) closedWith(tb testing.TB) int {
	tb.Helper()
	select {
	case <-s.sub.Done():
	case <-time.After(waitTimeout):
		tb.Fatal("socket not closed")
	}
	code, _ := s.sub.CloseCode()
	return code
}
