package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// clMsg is what the cluster tests read from a server message.
type clMsg struct {
	Type         string `json:"type"`
	ID           int64  `json:"id"`
	UnreadCount  *int64 `json:"unread_count"`
	Notification *struct {
		ID   int64 `json:"id"`
		Read bool  `json:"read"`
	} `json:"notification"`
	Event *struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	} `json:"event"`
}

// clSocket is a websocket client whose goroutine collects every message
// until the socket closes.
type clSocket struct {
	conn *websocket.Conn
	done chan struct{}

	mu   sync.Mutex
	msgs []clMsg
	err  error // why reading stopped
}

// clDial connects to wsURL with secret (no after_id: the socket starts at
// the user's newest id), reads the hello and starts collecting.
func clDial(tb testing.TB, wsURL, secret string) *clSocket {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clWait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", wsURL, err)
	}
	conn.SetReadLimit(1 << 20)
	auth, _ := json.Marshal(map[string]any{"type": "auth", "secret": secret})
	if err := conn.Write(ctx, websocket.MessageText, auth); err != nil {
		tb.Fatal(err)
	}
	_, data, err := conn.Read(ctx)
	if err != nil || !bytes.Contains(data, []byte(`"type":"hello"`)) {
		tb.Fatalf("hello: %s, %v", data, err)
	}
	s := &clSocket{conn: conn, done: make(chan struct{})}
	go s.collect()
	tb.Cleanup(func() {
		conn.CloseNow()
		<-s.done
	})
	return s
}

func (s *clSocket) collect() {
	defer close(s.done)
	for {
		_, data, err := s.conn.Read(context.Background())
		s.mu.Lock()
		if err != nil {
			s.err = err
			s.mu.Unlock()
			return
		}
		var m clMsg
		if json.Unmarshal(data, &m) != nil {
			m.Type = "undecodable"
		}
		s.msgs = append(s.msgs, m)
		s.mu.Unlock()
	}
}

func (s *clSocket) messages() []clMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// ids returns the ids of the notification messages, in arrival order.
func (s *clSocket) ids() []int64 {
	var out []int64
	for _, m := range s.messages() {
		if m.Type == "notification" {
			out = append(out, m.Notification.ID)
		}
	}
	return out
}

// next waits for the message after the first n and returns it.
func (s *clSocket) next(tb testing.TB, n int) clMsg {
	tb.Helper()
	clWaitFor(tb, fmt.Sprintf("message %d", n+1), func() bool { return len(s.messages()) > n })
	return s.messages()[n]
}

// closeCode waits until the server closed the socket and returns the code.
func (s *clSocket) closeCode(tb testing.TB) websocket.StatusCode {
	tb.Helper()
	select {
	case <-s.done:
	case <-time.After(clWait):
		tb.Fatal("socket still open")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return websocket.CloseStatus(s.err)
}

// clExactlyOnce fails tb unless got is want: every id once, strictly
// increasing.
func clExactlyOnce(tb testing.TB, who string, got, want []int64) {
	tb.Helper()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			tb.Fatalf("%s: id %d after %d: a duplicate or a reordering", who, got[i], got[i-1])
		}
	}
	if !slices.Equal(got, want) {
		seen := make(map[int64]bool, len(got))
		for _, id := range got {
			seen[id] = true
		}
		var missing []int64
		for _, id := range want {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		tb.Fatalf("%s: got %d ids, the database has %d; missing %v", who, len(got), len(want), missing[:min(len(missing), 20)])
	}
}
