package main

import (
	"slices"
	"strings"
	"testing"
)

// TestSocketSpecsSpread: with two instances each user's sockets go to
// both, and with one socket per user the users split over them.
func TestSocketSpecsSpread(t *testing.T) {
	urls := []string{"ws://a/ws", "ws://b/ws"}
	for _, tc := range []struct{ users, sockets int }{{3, 6}, {4, 4}, {5, 10}} {
		perUser := map[int64]map[string]int{}
		perURL := map[string]int{}
		for _, s := range socketSpecs(rawUsers(tc.users), tc.sockets, urls) {
			if perUser[s.User] == nil {
				perUser[s.User] = map[string]int{}
			}
			perUser[s.User][s.WS]++
			perURL[s.WS]++
		}
		if perURL[urls[0]] != tc.sockets/2 || perURL[urls[1]] != tc.sockets/2 {
			t.Errorf("%d users, %d sockets: per instance %v, want half each", tc.users, tc.sockets, perURL)
		}
		if tc.sockets >= 2*tc.users {
			for u, m := range perUser {
				if len(m) != 2 {
					t.Errorf("%d users, %d sockets: user %d's sockets on %v, want both instances", tc.users, tc.sockets, u, m)
				}
			}
		}
	}
	for _, s := range socketSpecs(rawUsers(2), 4, urls[:1]) {
		if s.WS != "" {
			t.Errorf("one instance: socket %d names %q, want the group's URL", s.Index, s.WS)
		}
	}
}

// TestInstanceEnv: the caller's NOTIFYD_* variables are dropped, cluster
// mode passes cluster.broker (postgres unless -broker) and a
// cluster.secret, one instance without -cluster passes neither, and
// -notifyd-env comes last so it wins.
func TestInstanceEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "NOTIFYD_WS_SEND_QUEUE=1", "NOTIFYD_TEST_DATABASE_URL=x"}
	o := options{key: "k", start: 2}
	env := instanceEnv(environ, o, "postgres://h/db")
	if !slices.Contains(env, "PATH=/bin") || !slices.Contains(env, "NOTIFYD_CLUSTER_BROKER=postgres") ||
		!slices.Contains(env, "NOTIFYD_DATABASE_URL=postgres://h/db") || !slices.Contains(env, "NOTIFYD_AUTH_API_KEYS=k") {
		t.Errorf("env lacks the run's settings: %q", env)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "NOTIFYD_WS_SEND_QUEUE") || strings.HasPrefix(kv, "NOTIFYD_TEST_") {
			t.Errorf("env has %q", kv)
		}
		if s, ok := strings.CutPrefix(kv, "NOTIFYD_CLUSTER_SECRET="); ok && len(s) < 32 {
			t.Errorf("cluster secret of %d bytes", len(s))
		}
	}
	o.broker, o.notifydEnv = "nats", []string{"NOTIFYD_CLUSTER_MAX_LISTENER_LAG=1s"}
	env = instanceEnv(environ, o, "postgres://h/db")
	if !slices.Contains(env, "NOTIFYD_CLUSTER_BROKER=nats") || env[len(env)-1] != "NOTIFYD_CLUSTER_MAX_LISTENER_LAG=1s" {
		t.Errorf("env with -broker and -notifyd-env: %q", env)
	}
	for _, kv := range instanceEnv(nil, options{key: "k", start: 1}, "u") {
		if strings.HasPrefix(kv, "NOTIFYD_CLUSTER_") {
			t.Errorf("one instance without -cluster has %q", kv)
		}
	}
}
