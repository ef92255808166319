package natsbroker_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/natsbroker"
	"github.com/notifyd/notifyd/natsbroker/natstest"
)

// TestBusDelivers: an instance receives, in order, what another publishes
// for the users it watches, nothing of other users, and never its own
// messages back.
func TestBusDelivers(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix(t)
	a := newBus(t, url, prefix, busOptions{})
	b := newBus(t, url, prefix, busOptions{})
	b.watch(t, 1)
	a.watch(t, 1)
	a.publish(t, 2, "not watched")
	for _, p := range []string{"one", "two", "three"} {
		a.publish(t, 1, p)
	}
	b.rcv.expect(t, received{1, "one"}, received{1, "two"}, received{1, "three"})
	b.publish(t, 1, "from b")
	a.rcv.expect(t, received{1, "from b"}) // not its own three first
	if v := metricstest.Value(t, b.reg, "notifyd_nats_received_total"); v != 3 {
		t.Errorf("received_total = %v, want 3", v)
	}
}

// TestBusRefusesForgeries: whoever can publish on the server but has no
// secret (or another deployment's) changes nothing: garbage, a message of
// another key, a genuine message replayed or moved to another user's
// subject, and an oversized one are dropped and counted.
func TestBusRefusesForgeries(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix(t)
	a := newBus(t, url, prefix, busOptions{})
	b := newBus(t, url, prefix, busOptions{maxBytes: 4096})
	other := newBus(t, url, prefix, busOptions{secret: "another-deployment-secret-0123456789"})
	spy := rawConn(t, url)
	captured, err := spy.SubscribeSync(prefix + ".u.1")
	if err != nil {
		t.Fatal(err)
	}
	flush(t, spy)
	b.watch(t, 1)
	b.watch(t, 2)

	a.publish(t, 1, "genuine")
	b.rcv.expect(t, received{1, "genuine"})
	genuine, err := captured.NextMsg(testkit.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(genuine.Data), "genuine") {
		t.Fatal("the payload travels in clear")
	}
	other.publish(t, 1, `{"k":"s","s":1}`)
	for _, f := range []struct {
		subject string
		data    []byte
	}{
		{prefix + ".u.1", []byte(`{"k":"r","u":1,"c":0}`)},
		{prefix + ".u.1", genuine.Data},
		{prefix + ".u.2", genuine.Data},
		{prefix + ".u.1", make([]byte, 5000)},
		{prefix + ".u.x", genuine.Data},
	} {
		if err := spy.Publish(f.subject, f.data); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, spy)
	other.watch(t, 99) // its round trip: the server has other's message
	a.publish(t, 1, "after")
	b.rcv.expect(t, received{1, "after"})
	for reason, want := range map[string]float64{
		natsbroker.RejectMalformed: 1, natsbroker.RejectForged: 2, natsbroker.RejectReplay: 1, natsbroker.RejectTooLarge: 1,
	} {
		if v := metricstest.Value(t, b.reg, "notifyd_nats_rejected_total", "reason", reason); v != want {
			t.Errorf("rejected_total{reason=%q} = %v, want %v", reason, v, want)
		}
	}
	if err := b.Publish(1, make([]byte, 4096)); !errors.Is(err, natsbroker.ErrTooLarge) {
		t.Errorf("Publish(4 KiB) with a 4 KiB bound = %v, want ErrTooLarge", err)
	}
}

// TestBusUnwatch: after Unwatch nothing of the user arrives; watched
// again, the user's messages arrive once each (one subscription).
func TestBusUnwatch(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix(t)
	a := newBus(t, url, prefix, busOptions{})
	b := newBus(t, url, prefix, busOptions{})
	b.watch(t, 1)
	b.watch(t, 1) // a no-op
	a.publish(t, 1, "watched")
	b.rcv.expect(t, received{1, "watched"})
	b.Unwatch(1)
	b.watch(t, 2) // its round trip also confirms the UNSUB of user 1
	a.publish(t, 1, "no longer watched")
	a.publish(t, 2, "marker")
	b.rcv.expect(t, received{2, "marker"})
	b.watch(t, 1)
	a.publish(t, 1, "watched again")
	a.publish(t, 2, "marker")
	b.rcv.expect(t, received{1, "watched again"}, received{2, "marker"})
}

// TestBusReconnect: when the NATS server dies, Ready fails after MaxLag; a
// user watched meanwhile is subscribed once the server is back; the
// reconnection asks for a resync (every watched user may have missed
// something), after which delivery goes on.
func TestBusReconnect(t *testing.T) {
	srv := natstest.Start(t)
	prefix := natstest.Prefix(t)
	a := newBus(t, srv.URL, prefix, busOptions{})
	b := newBus(t, srv.URL, prefix, busOptions{maxLag: 50 * time.Millisecond})
	b.watch(t, 1)
	a.publish(t, 1, "before")
	b.rcv.expect(t, received{1, "before"})
	drain(b.rcv.resyncs)

	srv.Stop()
	testkit.Eventually(t, "Ready to fail", func() bool { return b.Ready(context.Background()) != nil })
	b.watch(t, 2) // returns while disconnected: the reconnection covers it
	srv.Restart()
	b.rcv.waitResync(t)
	testkit.Eventually(t, "Ready", func() bool { return b.Ready(context.Background()) == nil })
	a.publish(t, 1, "after one")
	a.publish(t, 2, "after two")
	b.rcv.expect(t, received{1, "after one"}, received{2, "after two"})
	if v := metricstest.Value(t, b.reg, "notifyd_nats_reconnects_total"); v < 1 {
		t.Errorf("reconnects_total = %v, want at least 1", v)
	}
}

// TestBusCredentials: the credentials of [cluster.nats] reach the server:
// the right token connects, a wrong one does not.
func TestBusCredentials(t *testing.T) {
	const token = "nats-test-token-0123456789"
	srv := natstest.Start(t, "--auth", token)
	prefix := natstest.Prefix(t)
	withToken := func(tok string) func(*config.NATS) { return func(n *config.NATS) { n.Token = tok } }
	a := newBus(t, srv.URL, prefix, busOptions{nats: withToken(token)})
	b := newBus(t, srv.URL, prefix, busOptions{nats: withToken(token)})
	b.watch(t, 1)
	a.publish(t, 1, "authenticated")
	b.rcv.expect(t, received{1, "authenticated"})

	// A refused connection is retried like an unreachable server: not
	// ready, whatever the wait.
	bad := newBus(t, srv.URL, prefix, busOptions{nats: withToken("wrong-token-0123456789"), maxLag: time.Nanosecond})
	testkit.Eventually(t, "Ready to fail", func() bool { return bad.Ready(context.Background()) != nil })
}

// TestNewNamesBadFiles: a credential or TLS file that cannot be read stops
// New with an error naming its key (no server needed).
func TestNewNamesBadFiles(t *testing.T) {
	missing := t.TempDir() + "/missing.pem"
	for key, set := range map[string]func(*config.NATS){
		"cluster.nats.creds_file":     func(n *config.NATS) { n.CredsFile = missing },
		"cluster.nats.nkey_seed_file": func(n *config.NATS) { n.NkeySeedFile = missing },
		"cluster.nats.tls_ca_file":    func(n *config.NATS) { n.TLSCAFile = missing },
		"cluster.nats.tls_cert_file":  func(n *config.NATS) { n.TLSCertFile, n.TLSKeyFile = missing, missing },
	} {
		t.Run(key, func(t *testing.T) {
			n := config.Default().Cluster.NATS
			set(&n)
			_, err := natsbroker.NewBus(natsbroker.Config{NATS: n, Secret: []byte(testSecret)}, newRecorder(), nil, nil)
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Fatalf("New = %v, want an error naming %s", err, key)
			}
		})
	}
}

func drain(ch chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// TestBusOverflowResyncs: when received messages wait faster than the
// receiver takes them and the queue overflows, messages are dropped and
// the receiver is told to catch every watched user up.
func TestBusOverflowResyncs(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix(t)
	logs := &logWatch{lines: make(chan string, 64)}
	gate := make(chan struct{})
	a := newBus(t, url, prefix, busOptions{})
	b := newBus(t, url, prefix, busOptions{queue: 2, gate: gate, logger: slog.New(logs)})
	b.rcv.waitResync(t) // the first connection's
	b.watch(t, 1)
	for range 20 {
		a.publish(t, 1, "burst")
	}
	for full := false; !full; {
		select {
		case line := <-logs.lines:
			full = strings.Contains(line, "queue full")
		case <-time.After(testkit.Timeout):
			t.Fatal("the queue never overflowed")
		}
	}
	close(gate)
	b.rcv.waitResync(t)
	if v := metricstest.Value(t, b.reg, "notifyd_nats_resyncs_total"); v < 2 {
		t.Errorf("resyncs_total = %v, want 2 (connection, overflow)", v)
	}
}

// logWatch is a slog handler that passes each message on.
type logWatch struct{ lines chan string }

func (l *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logWatch) WithGroup(string) slog.Handler            { return l }
func (l *logWatch) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.lines <- r.Message:
	default:
	}
	return nil
}

// TestBusStartsWithoutServer: a NATS server that is down at start-up does
// not stop the bus: it is not ready, then connects when the server comes,
// resyncs and delivers.
func TestBusStartsWithoutServer(t *testing.T) {
	srv := natstest.Start(t)
	srv.Stop()
	prefix := natstest.Prefix(t)
	b := newBus(t, srv.URL, prefix, busOptions{maxLag: time.Nanosecond})
	testkit.Eventually(t, "Ready to fail", func() bool { return b.Ready(context.Background()) != nil })
	b.watch(t, 1)
	srv.Restart()
	b.rcv.waitResync(t)
	a := newBus(t, srv.URL, prefix, busOptions{})
	a.publish(t, 1, "first")
	b.rcv.expect(t, received{1, "first"})
	if err := b.Ready(context.Background()); err != nil {
		t.Errorf("Ready = %v once connected", err)
	}
}

// TestBusDropsPastReconnectBuffer: while NATS is away, messages wait in
// the reconnect buffer; past it they are dropped and counted, without an
// error per message (the receivers repair from the database).
func TestBusDropsPastReconnectBuffer(t *testing.T) {
	srv := natstest.Start(t)
	b := newBus(t, srv.URL, natstest.Prefix(t), busOptions{maxLag: time.Nanosecond})
	srv.Stop()
	testkit.Eventually(t, "disconnected", func() bool { return b.Ready(context.Background()) != nil })
	big := make([]byte, 900<<10)
	for range 12 { // 10.8 MB, over nats.go's 8 MiB buffer
		b.publish(t, 1, string(big))
	}
	if v := metricstest.Value(t, b.reg, "notifyd_nats_dropped_total"); v < 1 {
		t.Errorf("dropped_total = %v, want some", v)
	}
}
