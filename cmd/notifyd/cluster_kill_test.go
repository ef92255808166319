package main

import (
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
)

// TestClusterKill9 runs two notifyd processes on one database, with
// clients on A and publishers on B, then kills A with SIGKILL: its clients
// reconnect to B with after_id and end up with every notification exactly
// once.
func TestClusterKill9(t *testing.T) { clKill9(t, clusterEnv(t)) }

// clKill9 is TestClusterKill9 with env (the broker's settings).
func clKill9(t *testing.T, env map[string]string) {
	bin := buildNotifyd(t)
	a := startProcess(t, bin, env)
	b := startProcess(t, bin, clClone(env))
	alice, aliceSecret := b.instance.external(t, "alice")
	bob, bobSecret := b.instance.external(t, "bob")
	clients := []clTab{
		{"alice tab 1", alice, clResume(t, a.WSURL, aliceSecret)},
		{"alice tab 2", alice, clResume(t, a.WSURL, aliceSecret)},
		{"alice tab 3", alice, clResume(t, a.WSURL, b.instance.session(t, "alice"))},
		{"bob", bob, clResume(t, a.WSURL, bobSecret)},
	}
	traffic := clStartTraffic(b.publisher(t), b.publisher(t))
	for _, c := range clients {
		testkit.Eventually(t, c.name+" receiving through A", func() bool { return len(c.c.got()) >= 20 })
		// From now on a reconnect goes to B; the socket stays on A.
		c.c.retarget(b.WSURL)
	}

	a.kill(t)
	for _, c := range clients {
		testkit.Eventually(t, c.name+" reconnected", func() bool { r, _ := c.c.stats(); return r > 0 })
		n := len(c.c.got())
		testkit.Eventually(t, c.name+" receiving through B", func() bool { return len(c.c.got()) > n+10 })
	}
	traffic.halt(t)
	if code := clReadyz(b.instance); code != http.StatusOK {
		t.Fatalf("B's readyz = %d after A died", code)
	}
	clCheckTabs(t, env, clients)
}
