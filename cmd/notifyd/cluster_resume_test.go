package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/internal/testkit"
)

// clResumer is a client that behaves like the web inbox: whenever its
// socket ends (4008, a dropped connection, a dead instance) it reconnects
// with after_id = the last id it got, to wherever target points now. It
// records every notification id, and any id that does not increase.
type clResumer struct {
	secret string
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	target     string
	ids        []int64
	bad        []string // protocol violations: duplicates, reordering, resync
	counts     int      // unread_count messages
	reconnects int
}

// clResume starts a client of secret's user on wsURL.
func clResume(tb testing.TB, wsURL, secret string) *clResumer {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &clResumer{secret: secret, target: wsURL, cancel: cancel, done: make(chan struct{})}
	connected := make(chan struct{})
	go r.run(ctx, connected)
	tb.Cleanup(r.stop)
	select {
	case <-connected:
	case <-time.After(testkit.Timeout):
		tb.Fatalf("client of %s did not connect", wsURL)
	}
	return r
}

func (r *clResumer) stop() {
	r.cancel()
	<-r.done
}

// retarget makes the next reconnect go to wsURL.
func (r *clResumer) retarget(wsURL string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = wsURL
}

func (r *clResumer) run(ctx context.Context, connected chan struct{}) {
	defer close(r.done)
	first := true
	for ctx.Err() == nil {
		r.mu.Lock()
		target, after := r.target, int64(0)
		if len(r.ids) > 0 {
			after = r.ids[len(r.ids)-1]
		}
		r.mu.Unlock()
		s, err := r.dial(ctx, target, after)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if first {
			close(connected)
			first = false
		}
		r.read(ctx, s)
		s.CloseNow()
		r.mu.Lock()
		r.reconnects++
		r.mu.Unlock()
	}
}

// dial connects, authenticates with after_id and reads the hello.
func (r *clResumer) dial(ctx context.Context, target string, after int64) (*testkit.Socket, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return testkit.Open(dctx, target, testkit.SecretAuth(r.secret, after), nil)
}

// read records messages until the socket ends.
func (r *clResumer) read(ctx context.Context, s *testkit.Socket) {
	for {
		_, data, err := s.Conn().Read(ctx)
		if err != nil {
			return
		}
		var m testkit.Frame
		if err := json.Unmarshal(data, &m); err != nil || (m.Type == "notification" && m.Notification == nil) {
			r.violation("undecodable message %q", data)
			continue
		}
		switch m.Type {
		case "notification":
			r.mu.Lock()
			if n := len(r.ids); n > 0 && m.Notification.ID <= r.ids[n-1] {
				r.bad = append(r.bad, fmt.Sprintf("id %d after %d", m.Notification.ID, r.ids[n-1]))
			}
			r.ids = append(r.ids, m.Notification.ID)
			r.mu.Unlock()
		case "unread_count":
			r.mu.Lock()
			r.counts++
			r.mu.Unlock()
		case "resync":
			r.violation("resync: the backlog was longer than ws.max_replay")
		}
	}
}

func (r *clResumer) violation(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, fmt.Sprintf(format, args...))
}

// got returns the ids received so far.
func (r *clResumer) got() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// check waits until the client has as many ids as want, then fails tb
// unless it got exactly want, each once, in order.
func (r *clResumer) check(tb testing.TB, who string, want []int64) {
	tb.Helper()
	testkit.Eventually(tb, who+" has every notification", func() bool { return len(r.got()) >= len(want) })
	r.mu.Lock()
	bad := slices.Clone(r.bad)
	r.mu.Unlock()
	if len(bad) > 0 {
		tb.Fatalf("%s: %v", who, bad[:min(len(bad), 10)])
	}
	testkit.CheckExactlyOnce(tb, who, r.got(), want)
}

func (r *clResumer) stats() (reconnects, counts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reconnects, r.counts
}

// clTab is a resuming client of user, named in failures.
type clTab struct {
	name string
	user int64
	c    *clResumer
}

// clThreeTabs creates alice and bob through a and opens the tabs of the
// outage tests, each resuming like the web inbox, in this order: alice on
// A, alice on B, bob on B.
func clThreeTabs(tb testing.TB, a, b *instance) []clTab {
	tb.Helper()
	alice, aliceSecret := a.external(tb, "alice")
	bob, bobSecret := a.external(tb, "bob")
	return []clTab{
		{"alice on A", alice, clResume(tb, a.WSURL, aliceSecret)},
		{"alice on B", alice, clResume(tb, b.WSURL, aliceSecret)},
		{"bob on B", bob, clResume(tb, b.WSURL, bobSecret)},
	}
}

// clCheckTabs fails t unless each tab got every notification the
// database of env holds for its user, once each, in order.
func clCheckTabs(t *testing.T, env map[string]string, tabs []clTab) {
	t.Helper()
	for _, tab := range tabs {
		tab.c.check(t, tab.name, clDBIDs(t, env, tab.user))
	}
}

// clTraffic is the steady publishing of the failover tests: one flood
// for alice and bob through each of two publisher clients.
type clTraffic struct{ floods [2]*testkit.Flood }

func clStartTraffic(first, second *client.Client) *clTraffic {
	return &clTraffic{[2]*testkit.Flood{
		testkit.StartFlood(first, "alice", "bob"),
		testkit.StartFlood(second, "bob", "alice"),
	}}
}

func (tr *clTraffic) sent() int64 { return tr.floods[0].Sent.Load() + tr.floods[1].Sent.Load() }

// progress waits until ten more notifications were created.
func (tr *clTraffic) progress(t *testing.T, what string) {
	t.Helper()
	n := tr.sent()
	testkit.Eventually(t, what, func() bool { return tr.sent() > n+10 })
}

// halt stops both floods, failing t if a publish failed.
func (tr *clTraffic) halt(t *testing.T) {
	t.Helper()
	for _, f := range tr.floods {
		f.Halt(t)
	}
}
