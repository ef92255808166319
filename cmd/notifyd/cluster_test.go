package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/store/storetest"
	"github.com/notifyd/notifyd/wsserver"
)

func TestClusterRefusesSQLite(t *testing.T) {
	env := map[string]string{"NOTIFYD_CLUSTER_BROKER": "postgres", "NOTIFYD_CLUSTER_SECRET": clSecret,
		"NOTIFYD_DATABASE_SQLITE_PATH": t.TempDir() + "/x.db"}
	var out strings.Builder
	err := run(context.Background(), []string{"-config", "/dev/null"}, environ(env), &out, &out)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cluster.broker") {
		t.Fatalf("run = %v, want a usage error (exit 2) naming cluster.broker", err)
	}
}

// TestClusterNeedsSecret: a cluster broker without cluster.secret does not
// start (its doorbells could not be authenticated).
func TestClusterNeedsSecret(t *testing.T) {
	env := map[string]string{"NOTIFYD_CLUSTER_BROKER": "postgres", "NOTIFYD_DATABASE_URL": "postgres://127.0.0.1:1/x"}
	var out strings.Builder
	err := run(context.Background(), []string{"-config", "/dev/null"}, environ(env), &out, &out)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cluster.secret") {
		t.Fatalf("run = %v, want a usage error (exit 2) naming cluster.secret", err)
	}
}

func TestClusterTwoInstances(t *testing.T) { clTwoInstances(t, clusterEnv(t)) }

// clTwoInstances runs two instances with env (the broker's settings) on
// one database: changes, events and logouts made through either reach the
// sockets on both, exactly once and in order.
func clTwoInstances(t *testing.T, env map[string]string) {
	a := start(t, env)
	b := start(t, clClone(env))
	alice, aliceSecret := a.external(t, "alice")
	bob, bobSecret := b.external(t, "bob")
	type tab struct {
		name string
		user int64
		s    *testkit.Collector
	}
	clients := []tab{
		{"alice on A", alice, a.connect(t, aliceSecret).Collect(t)},
		{"alice on B", alice, b.connect(t, aliceSecret).Collect(t)},
		{"bob on A", bob, a.connect(t, bobSecret).Collect(t)},
		{"bob on B", bob, b.connect(t, bobSecret).Collect(t)},
	}

	t.Run("publishers on both instances", func(t *testing.T) {
		const each = 40
		ctx := context.Background()
		var wg sync.WaitGroup
		for _, in := range []*instance{a, b, a, b} {
			pub := in.publisher(t)
			wg.Go(func() {
				for i := range each {
					var err error
					if i%4 == 0 {
						var created int
						created, err = pub.NotifyMany(ctx, []string{"alice", "bob"}, client.NewNotification{Title: "bulk"})
						if err == nil && created != 2 {
							err = fmt.Errorf("bulk: created %d, want 2", created)
						}
					} else {
						_, err = pub.Notify(ctx, []string{"alice", "bob"}[i%2], client.NewNotification{Title: "hello"})
					}
					if err != nil {
						t.Errorf("publish: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, c := range clients {
			want := clDBIDs(t, env, c.user)
			// Per publisher: 10 bulk (both users), then 10 singles for
			// alice and 20 for bob.
			if wantRows := map[int64]int{alice: 80, bob: 120}[c.user]; len(want) != wantRows {
				t.Fatalf("%s: database has %d rows", c.name, len(want))
			}
			testkit.Eventually(t, c.name+" has every notification", func() bool { return len(c.s.IDs()) >= len(want) })
			testkit.CheckExactlyOnce(t, c.name, c.s.IDs(), want)
		}
	})

	onB := clients[1].s
	ids := clDBIDs(t, env, alice)
	first, last := ids[0], ids[len(ids)-1]
	changes := []struct {
		name, method, path string
		body               any
		status             int
		check              func(m testkit.Frame) bool
	}{
		{"read", "POST", fmt.Sprintf("/api/notifications/%d/read", first), nil, http.StatusOK,
			func(m testkit.Frame) bool {
				return m.Type == "notification_updated" && m.Notification.ID == first && m.Notification.Read
			}},
		{"unread", "POST", fmt.Sprintf("/api/notifications/%d/unread", first), nil, http.StatusOK,
			func(m testkit.Frame) bool { return m.Type == "notification_updated" && !m.Notification.Read }},
		{"delete", "DELETE", fmt.Sprintf("/api/notifications/%d", last), nil, http.StatusNoContent,
			func(m testkit.Frame) bool { return m.Type == "notification_deleted" && m.ID == last }},
		{"read all", "POST", "/api/notifications/read-all", nil, http.StatusOK,
			func(m testkit.Frame) bool { return m.Type == "notifications_read" && *m.UnreadCount == 0 }},
	}
	for _, c := range changes {
		t.Run("change made on A reaches B: "+c.name, func(t *testing.T) {
			n := len(onB.Frames())
			if code := a.api(t, c.method, c.path, aliceSecret, c.body, nil); code != c.status {
				t.Fatalf("status %d, want %d", code, c.status)
			}
			if m := onB.WaitFrame(t, n); !c.check(m) {
				t.Fatalf("B got %+v", m)
			}
		})
	}

	t.Run("events published on A reach B", func(t *testing.T) {
		small := map[string]any{"type": "task_progress", "data": map[string]float64{"progress": 0.5}}
		big := map[string]any{"type": "big_report", "data": map[string]string{"text": strings.Repeat("x", 9000)}}
		for _, ev := range []map[string]any{small, big} {
			n := len(onB.Frames())
			var resp struct {
				Sockets int `json:"sockets"`
			}
			path := "/api/publisher/users/alice/events"
			if code := a.api(t, "POST", path, testAPIKey, ev, &resp); code != http.StatusAccepted {
				t.Fatalf("event: status %d", code)
			}
			if resp.Sockets != 1 {
				t.Fatalf("sockets = %d, want 1 (this instance's only)", resp.Sockets)
			}
			m := onB.WaitFrame(t, n)
			want, _ := json.Marshal(ev["data"])
			if m.Type != "event" || m.Event.Type != ev["type"] || string(m.Event.Data) != string(want) {
				t.Fatalf("B got %+v", m)
			}
		}
	})

	t.Run("logout on A closes the session's sockets on B", func(t *testing.T) {
		other := a.session(t, "alice")
		phone := b.connect(t, other).Collect(t)
		if code := a.api(t, "DELETE", "/api/sessions/current", other, nil, nil); code != http.StatusNoContent {
			t.Fatalf("logout: status %d", code)
		}
		if code := websocket.CloseStatus(phone.End(t)); code != wsserver.CloseUnauthorized {
			t.Fatalf("closed with %d, want %d", code, wsserver.CloseUnauthorized)
		}
		// The other session's socket on B stays open.
		n := len(onB.Frames())
		if err := notifyOne(t, b, "alice"); err != nil {
			t.Fatal(err)
		}
		if m := onB.WaitFrame(t, n); m.Type != "notification" {
			t.Fatalf("B got %+v", m)
		}
	})

	t.Run("log out everywhere on A closes every session's sockets on B", func(t *testing.T) {
		s1, s2 := a.session(t, "alice"), a.session(t, "alice")
		phones := []*testkit.Collector{b.connect(t, s1).Collect(t), b.connect(t, s2).Collect(t)}
		if code := a.api(t, "DELETE", "/api/sessions", s1, nil, nil); code != http.StatusNoContent {
			t.Fatalf("log out everywhere: status %d", code)
		}
		for _, p := range phones {
			if code := websocket.CloseStatus(p.End(t)); code != wsserver.CloseUnauthorized {
				t.Fatalf("closed with %d, want %d", code, wsserver.CloseUnauthorized)
			}
		}
	})
}

// TestClusterListenerOutage kills the LISTEN connections of two instances
// while both publish, then keeps one instance's listener away from the
// database (through a proxy) for longer than cluster.max_listener_lag:
// every notification still reaches every socket exactly once, and that
// instance's /readyz is 503 while its listener is away, 200 once back.
func TestClusterListenerOutage(t *testing.T) {
	env := clusterEnv(t)
	env["NOTIFYD_CLUSTER_MAX_LISTENER_LAG"] = "300ms"
	proxy, viaProxy := storetest.ProxyURL(t, env["NOTIFYD_DATABASE_URL"])
	envB := clClone(env)
	envB["NOTIFYD_CLUSTER_LISTEN_URL"] = viaProxy

	a := start(t, env)
	b := start(t, envB)
	// Clients that resume like the web inbox: an outage that leaves more
	// missed notifications than a socket's queue holds closes it with 4008.
	sockets := clThreeTabs(t, a, b)
	testkit.Eventually(t, "two listeners", func() bool { return testkit.CountListeners(t, env["NOTIFYD_DATABASE_URL"]) == 2 })

	traffic := clStartTraffic(a.publisher(t), b.publisher(t))

	for round := range 3 {
		traffic.progress(t, "publishing")
		if n := testkit.TerminateListeners(t, env["NOTIFYD_DATABASE_URL"]); n != 2 {
			t.Fatalf("round %d: terminated %d listener connections, want 2", round, n)
		}
		traffic.progress(t, "publishing while the listeners reconnect")
		testkit.Eventually(t, "listeners back", func() bool { return testkit.CountListeners(t, env["NOTIFYD_DATABASE_URL"]) == 2 })
	}

	// B's listener cannot reach the database for longer than the lag.
	proxy.Stop()
	testkit.Eventually(t, "B not ready", func() bool { return clReadyz(b) == http.StatusServiceUnavailable })
	if got := clReadyz(a); got != http.StatusOK {
		t.Fatalf("A's readyz = %d while only B's listener is away", got)
	}
	traffic.progress(t, "publishing while B's listener is away")
	proxy.Start(t)
	testkit.Eventually(t, "B ready again", func() bool { return clReadyz(b) == http.StatusOK })
	traffic.progress(t, "publishing after B is back")
	traffic.halt(t)

	clCheckTabs(t, env, sockets)
	// After catching up, B told its sockets the fresh unread count.
	if _, counts := sockets[1].c.stats(); counts == 0 {
		t.Fatal("no unread_count message on B after its listener came back")
	}
}
