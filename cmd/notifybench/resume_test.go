package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/notify"
)

// scriptedServer answers each websocket connection with the next script
// of frames after the hello, then drops the connection (without a close
// frame, as a killed instance does) or, for the last script, holds it.
type scriptedServer struct {
	t       *testing.T
	scripts [][][]byte
	hellos  []int64 // unread count of each connection's hello

	mu     sync.Mutex
	afters []string // each connection's after_id, "" when absent
}

func (s *scriptedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	_, data, err := c.Read(r.Context())
	if err != nil {
		return
	}
	var auth struct {
		AfterID *int64 `json:"after_id"`
	}
	if err := json.Unmarshal(data, &auth); err != nil {
		s.t.Errorf("auth message %s: %v", data, err)
	}
	s.mu.Lock()
	n := len(s.afters)
	after := ""
	if auth.AfterID != nil {
		after = strconv.FormatInt(*auth.AfterID, 10)
	}
	s.afters = append(s.afters, after)
	s.mu.Unlock()
	frames := append([][]byte{notify.HelloFrame(notify.User{ID: 1}, s.hellos[n])}, s.scripts[n]...)
	for _, f := range frames {
		if err := c.Write(r.Context(), websocket.MessageText, f); err != nil {
			return
		}
	}
	if n < len(s.scripts)-1 {
		c.CloseNow()
		return
	}
	_, _, _ = c.Read(r.Context()) // until the client closes
}

// frame is notifyd's notification frame for id with unread count.
func frame(id, unread int64) []byte {
	n := notify.Notification{ID: id, UserID: 1, Title: "bench", CreatedAt: time.Now(),
		Content: contentPrefix + strconv.FormatInt(time.Now().UnixNano(), 10) + " seq=" + strconv.FormatInt(id, 10)}
	return notify.NotificationFrame(n, unread).Data
}

// TestResumeSplitsRecoveredFrames: a -fault socket tells live frames from
// a catch-up's and a replay's by their unread counts, resumes after its
// highest id, and keeps every id it got.
func TestResumeSplitsRecoveredFrames(t *testing.T) {
	srv := &scriptedServer{t: t, hellos: []int64{0, 6}, scripts: [][][]byte{
		{
			frame(1, 1), frame(2, 2), // live: each count is its position
			frame(3, 4), frame(4, 4), notify.UnreadCountFrame(4).Data, // a catch-up of 3 and 4
		},
		{
			frame(5, 6), frame(6, 6), // the replay after the resume: the hello's count
			frame(7, 7), // live again
		},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	g := newGroup("ws"+strings.TrimPrefix(hs.URL, "http"), 10*time.Second, true)
	g.burst = time.Minute // the box's load must not split the catch-up's burst
	g.connect(t.Context(), []socketSpec{{Index: 0, User: 1, Secret: "s"}}, 0)
	for deadline := time.Now().Add(30 * time.Second); g.delivered.Load() < 7; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 7 frames after 30s", g.delivered.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.close(ctx)

	r := g.stats().Recovery
	if r.Replayed != 2 || r.Repaired != 2 || r.CatchUps != 1 || r.Reconnects != 1 || r.Latency.Count != 4 {
		t.Errorf("recovery %+v: want 2 replayed, 2 repaired, 1 catch-up, 1 reconnect, 4 latencies", r)
	}
	if got := g.tracks[0].ids; !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("ids %v, want 1 to 7", got)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !slices.Equal(srv.afters, []string{"", "4"}) {
		t.Errorf("after_ids %q, want none, then 4", srv.afters)
	}
}
