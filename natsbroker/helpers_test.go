package natsbroker_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/natsbroker"
)

const testSecret = "0123456789abcdef0123456789abcdef-cluster"

// received is one message handed to a recorder.
type received struct {
	user    int64
	payload string
}

// recorder is a natsbroker.Receiver that keeps what it is told.
type recorder struct {
	msgs    chan received
	resyncs chan struct{}
	gate    chan struct{} // when set, Receive waits until it is closed
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan received, 1024), resyncs: make(chan struct{}, 16)}
}

func (r *recorder) Receive(_ context.Context, user int64, payload []byte) {
	if r.gate != nil {
		<-r.gate
	}
	r.msgs <- received{user, string(payload)}
}

func (r *recorder) Resync(context.Context) { r.resyncs <- struct{}{} }

// next returns the next message received.
func (r *recorder) next(tb testing.TB) received {
	tb.Helper()
	return testkit.Receive(tb, r.msgs, "a message")
}

// expect fails unless the next messages are want, in order.
func (r *recorder) expect(tb testing.TB, want ...received) {
	tb.Helper()
	for _, w := range want {
		if got := r.next(tb); got != w {
			tb.Fatalf("received %+v, want %+v", got, w)
		}
	}
}

// waitResync waits for a resync.
func (r *recorder) waitResync(tb testing.TB) {
	tb.Helper()
	testkit.Receive(tb, r.resyncs, "a resync")
}

// busOptions tweak newBus.
type busOptions struct {
	secret   string
	maxBytes int           // 0: cluster.nats.max_message_bytes's default
	maxLag   time.Duration // 0: cluster.max_listener_lag's default
	queue    int           // 0: cluster.nats.queue's default
	gate     chan struct{} // see recorder
	logger   *slog.Logger
	nats     func(*config.NATS)
}

// testBus is a running Bus with its receiver and metrics.
type testBus struct {
	*natsbroker.Bus
	rcv *recorder
	reg *prometheus.Registry
}

// newBus starts a Bus on url with the subject prefix, closed when the test
// ends.
func newBus(tb testing.TB, url, prefix string, opt busOptions) *testBus {
	tb.Helper()
	if opt.secret == "" {
		opt.secret = testSecret
	}
	d := config.Default().Cluster
	n := d.NATS
	n.URL, n.SubjectPrefix, n.ReconnectWait = url, prefix, config.Duration(20*time.Millisecond)
	if opt.maxBytes != 0 {
		n.MaxMessageBytes = opt.maxBytes
	}
	if opt.queue != 0 {
		n.Queue = opt.queue
	}
	if opt.maxLag == 0 {
		opt.maxLag = d.MaxListenerLag.D()
	}
	if opt.nats != nil {
		opt.nats(&n)
	}
	rcv, reg := newRecorder(), prometheus.NewRegistry()
	rcv.gate = opt.gate
	if opt.logger == nil {
		opt.logger = slog.New(slog.DiscardHandler)
	}
	b, err := natsbroker.NewBus(natsbroker.Config{
		NATS: n, Secret: []byte(opt.secret), MaxLag: opt.maxLag,
	}, rcv, opt.logger, natsbroker.NewMetrics(reg))
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Run(context.Background())
	}()
	tb.Cleanup(func() {
		b.Close()
		<-done
	})
	return &testBus{Bus: b, rcv: rcv, reg: reg}
}

// watch subscribes b to user's subject.
func (b *testBus) watch(tb testing.TB, user int64) {
	tb.Helper()
	if err := b.Watch(context.Background(), user); err != nil {
		tb.Fatal(err)
	}
}

// publish publishes payload for user.
func (b *testBus) publish(tb testing.TB, user int64, payload string) {
	tb.Helper()
	if err := b.Publish(user, []byte(payload)); err != nil {
		tb.Fatal(err)
	}
}

// rawConn is a plain NATS client: someone on the server without the secret.
func rawConn(tb testing.TB, url string) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// flush waits until the server has processed what nc sent.
func flush(tb testing.TB, nc *nats.Conn) {
	tb.Helper()
	if err := nc.FlushTimeout(testkit.Timeout); err != nil {
		tb.Fatal(err)
	}
}
