package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/natsbroker"
	"github.com/notifyd/notifyd/natsbroker/natstest"
)

// natsSecret is cluster.secret of the NATS tests' instances.
const natsSecret = "nats-test-cluster-secret-0123456789abcdef"

// natsEnv returns the environment of an instance with the NATS broker on a
// fresh Postgres database and the NATS server at url, with a subject
// prefix of its own (tests share the server).
func natsEnv(tb testing.TB, url string) map[string]string {
	tb.Helper()
	env := clusterEnv(tb)
	env["NOTIFYD_CLUSTER_BROKER"] = config.BrokerNATS
	env["NOTIFYD_CLUSTER_SECRET"] = natsSecret
	env["NOTIFYD_CLUSTER_NATS_URL"] = url
	env["NOTIFYD_CLUSTER_NATS_SUBJECT_PREFIX"] = natstest.Prefix(tb)
	return env
}

// TestNATSTwoInstances is TestClusterTwoInstances with the NATS broker.
func TestNATSTwoInstances(t *testing.T) { clTwoInstances(t, natsEnv(t, natstest.URL(t))) }

// TestNATSKill9 is TestClusterKill9 with the NATS broker.
func TestNATSKill9(t *testing.T) { clKill9(t, natsEnv(t, natstest.URL(t))) }

// TestNATSForgeries: messages put on the subjects by a NATS client without
// cluster.secret, or with another one, have no effect: no socket closed,
// no count changed, nothing shown; they are counted as refused.
func TestNATSForgeries(t *testing.T) {
	url := natstest.URL(t)
	env := natsEnv(t, url)
	a := start(t, env)
	b := start(t, clClone(env))
	alice, aliceSecret := a.external(t, "alice")
	if err := notifyOne(t, a, "alice"); err != nil {
		t.Fatal(err)
	}
	onB := b.connect(t, aliceSecret).Collect(t)

	prefix := env["NOTIFYD_CLUSTER_NATS_SUBJECT_PREFIX"]
	userSubject := fmt.Sprintf("%s.u.%d", prefix, alice)
	raw, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The forged doorbells, as the NATS broker's JSON changes.
	for _, m := range []struct{ subject, body string }{
		{prefix + ".all", `[{"k":"session","u":0,"s":1}]`},
		{userSubject, `[{"k":"read_all","u":` + fmt.Sprint(alice) + `,"q":99,"c":0}]`},
		{userSubject, `[{"k":"deleted","u":` + fmt.Sprint(alice) + `,"q":99,"id":1,"c":0}]`},
		{userSubject, `[{"k":"event","u":` + fmt.Sprint(alice) + `,"e":{"type":"progress","data":{"percent":99}}}]`},
	} {
		if err := raw.Publish(m.subject, []byte(m.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Flush(); err != nil {
		t.Fatal(err)
	}
	// The same, sealed with another deployment's secret.
	other := otherDeployment(t, url, prefix)
	for _, body := range []string{`[{"k":"session","u":0,"s":1}]`, `[{"k":"read_all","u":1,"q":99,"c":0}]`} {
		if err := other.Publish(natsbroker.NoUser, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Watch(context.Background(), 1<<40); err != nil { // its round trip: the server has them
		t.Fatal(err)
	}

	// A genuine notification published through A is the next thing alice's
	// socket on B sees, with the true count.
	if err := notifyOne(t, a, "alice"); err != nil {
		t.Fatal(err)
	}
	m := onB.WaitFrame(t, 0)
	want := clDBIDs(t, env, alice)
	if m.Type != "notification" || m.Notification.ID != want[len(want)-1] || m.UnreadCount == nil || *m.UnreadCount != 2 {
		t.Fatalf("first message on B = %+v, want the new notification with unread_count 2", m)
	}
	if got := len(onB.Frames()); got != 1 {
		t.Fatalf("B's socket got %d messages, want 1: %+v", got, onB.Frames())
	}
	metrics := b.scrapeMetrics(t)
	for reason, want := range map[string]float64{natsbroker.RejectMalformed: 4, natsbroker.RejectForged: 2} {
		if got := metrics.value("notifyd_nats_rejected_total", "reason", reason); got != want {
			t.Errorf("B: notifyd_nats_rejected_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}

// otherDeployment is a NATS bus with another cluster.secret on the same
// subjects.
func otherDeployment(tb testing.TB, url, prefix string) *natsbroker.Bus {
	tb.Helper()
	n := config.Default().Cluster.NATS
	n.URL, n.SubjectPrefix = url, prefix
	bus, err := natsbroker.NewBus(natsbroker.Config{NATS: n, Secret: []byte("another-deployment-secret-0123456789")}, nopBusReceiver{}, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(bus.Close)
	return bus
}

type nopBusReceiver struct{}

func (nopBusReceiver) Receive(context.Context, int64, []byte) {}
func (nopBusReceiver) Resync(context.Context)                 {}

// TestNATSServerRestart: the NATS server dies and comes back while both
// instances publish; /readyz is 503 while it is away, and every
// notification reaches every socket exactly once, in order, the missed
// ones from the database.
func TestNATSServerRestart(t *testing.T) {
	srv := natstest.Start(t)
	env := natsEnv(t, srv.URL)
	env["NOTIFYD_CLUSTER_MAX_LISTENER_LAG"] = "300ms"
	a := start(t, env)
	b := start(t, clClone(env))
	sockets := clThreeTabs(t, a, b)
	traffic := clStartTraffic(a.publisher(t), b.publisher(t))
	for round := range 2 {
		traffic.progress(t, "publishing")
		srv.Stop()
		testkit.Eventually(t, "B not ready", func() bool { return clReadyz(b) == http.StatusServiceUnavailable })
		traffic.progress(t, fmt.Sprintf("round %d: publishing while NATS is down", round))
		srv.Restart()
		testkit.Eventually(t, "A and B ready", func() bool { return clReadyz(a) == http.StatusOK && clReadyz(b) == http.StatusOK })
	}
	traffic.progress(t, "publishing after NATS is back")
	traffic.halt(t)
	clCheckTabs(t, env, sockets)
	for name, in := range map[string]*instance{"A": a, "B": b} {
		if n := in.scrapeMetrics(t).value("notifyd_nats_reconnects_total"); n < 2 {
			t.Errorf("%s: notifyd_nats_reconnects_total = %v, want 2 (one per restart)", name, n)
		}
	}
}
