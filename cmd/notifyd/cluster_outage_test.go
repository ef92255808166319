package main

import (
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/store/storetest"
)

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
