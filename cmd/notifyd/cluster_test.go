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

	"github.com/notifyd/notifyd/notify"
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
	type client struct {
		name string
		user int64
		s    *clSocket
	}
	clients := []client{
		{"alice on A", alice, clDial(t, a.WSURL, aliceSecret)},
		{"alice on B", alice, clDial(t, b.WSURL, aliceSecret)},
		{"bob on A", bob, clDial(t, a.WSURL, bobSecret)},
		{"bob on B", bob, clDial(t, b.WSURL, bobSecret)},
	}

	t.Run("publishers on both instances", func(t *testing.T) {
		const each = 40
		ctx := context.Background()
		var wg sync.WaitGroup
		for _, in := range []*instance{a, b, a, b} {
			wg.Go(func() {
				for i := range each {
					var err error
					if i%4 == 0 {
						var code int
						code, err = clPost(ctx, in.HTTPURL+"/api/publisher/notifications", testAPIKey,
							map[string]any{"user_ids": []string{"alice", "bob"}, "title": "bulk"})
						if err == nil && code != http.StatusCreated {
							err = fmt.Errorf("bulk: status %d", code)
						}
					} else {
						err = clNotify(ctx, in.HTTPURL, []string{"alice", "bob"}[i%2])
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
			clWaitFor(t, c.name+" has every notification", func() bool { return len(c.s.ids()) >= len(want) })
			clExactlyOnce(t, c.name, c.s.ids(), want)
		}
	})

	onB := clients[1].s
	ids := clDBIDs(t, env, alice)
	first, last := ids[0], ids[len(ids)-1]
	changes := []struct {
		name, method, path string
		body               any
		status             int
		check              func(m clMsg) bool
	}{
		{"read", "POST", fmt.Sprintf("/api/notifications/%d/read", first), nil, http.StatusOK,
			func(m clMsg) bool {
				return m.Type == "notification_updated" && m.Notification.ID == first && m.Notification.Read
			}},
		{"unread", "POST", fmt.Sprintf("/api/notifications/%d/unread", first), nil, http.StatusOK,
			func(m clMsg) bool { return m.Type == "notification_updated" && !m.Notification.Read }},
		{"delete", "DELETE", fmt.Sprintf("/api/notifications/%d", last), nil, http.StatusNoContent,
			func(m clMsg) bool { return m.Type == "notification_deleted" && m.ID == last }},
		{"read all", "POST", "/api/notifications/read-all", nil, http.StatusOK,
			func(m clMsg) bool { return m.Type == "notifications_read" && *m.UnreadCount == 0 }},
	}
	for _, c := range changes {
		t.Run("change made on A reaches B: "+c.name, func(t *testing.T) {
			n := len(onB.messages())
			if code := a.api(t, c.method, c.path, aliceSecret, c.body, nil); code != c.status {
				t.Fatalf("status %d, want %d", code, c.status)
			}
			if m := onB.next(t, n); !c.check(m) {
				t.Fatalf("B got %+v", m)
			}
		})
	}

	t.Run("events published on A reach B", func(t *testing.T) {
		small := map[string]any{"type": "task_progress", "data": map[string]float64{"progress": 0.5}}
		big := map[string]any{"type": "big_report", "data": map[string]string{"text": strings.Repeat("x", 9000)}}
		for _, ev := range []map[string]any{small, big} {
			n := len(onB.messages())
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
			m := onB.next(t, n)
			want, _ := json.Marshal(ev["data"])
			if m.Type != "event" || m.Event.Type != ev["type"] || string(m.Event.Data) != string(want) {
				t.Fatalf("B got %+v", m)
			}
		}
	})

	t.Run("logout on A closes the session's sockets on B", func(t *testing.T) {
		other := clSession(t, a, "alice")
		phone := clDial(t, b.WSURL, other)
		if code := a.api(t, "DELETE", "/api/sessions/current", other, nil, nil); code != http.StatusNoContent {
			t.Fatalf("logout: status %d", code)
		}
		if code := phone.closeCode(t); code != notify.CloseUnauthorized {
			t.Fatalf("closed with %d, want %d", code, notify.CloseUnauthorized)
		}
		// The other session's socket on B stays open.
		n := len(onB.messages())
		if err := clNotify(context.Background(), b.HTTPURL, "alice"); err != nil {
			t.Fatal(err)
		}
		if m := onB.next(t, n); m.Type != "notification" {
			t.Fatalf("B got %+v", m)
		}
	})

	t.Run("log out everywhere on A closes every session's sockets on B", func(t *testing.T) {
		s1, s2 := clSession(t, a, "alice"), clSession(t, a, "alice")
		phones := []*clSocket{clDial(t, b.WSURL, s1), clDial(t, b.WSURL, s2)}
		if code := a.api(t, "DELETE", "/api/sessions", s1, nil, nil); code != http.StatusNoContent {
			t.Fatalf("log out everywhere: status %d", code)
		}
		for _, p := range phones {
			if code := p.closeCode(t); code != notify.CloseUnauthorized {
				t.Fatalf("closed with %d, want %d", code, notify.CloseUnauthorized)
			}
		}
	})
}
