package natsbroker_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/natsbroker"
	"github.com/notifyd/notifyd/natsbroker/natstest"
	"github.com/notifyd/notifyd/notify"
)

// changeLog is a natsbroker.Receiver that records the changes handed to
// it; the real one (notify's) is tested with the service and the store.
type changeLog struct {
	delivered chan []notify.Change
	caughtUp  chan struct{}
	gate      chan struct{} // when set, Deliver waits until it is closed
	mu        sync.Mutex
	forgotten []int64
}

func newChangeLog(gate chan struct{}) *changeLog {
	return &changeLog{delivered: make(chan []notify.Change, 64), caughtUp: make(chan struct{}, 16), gate: gate}
}

func (l *changeLog) Seen(int64, int64)                {}
func (l *changeLog) CatchUpAll(context.Context) error { l.caughtUp <- struct{}{}; return nil }
func (l *changeLog) Run(ctx context.Context)          { <-ctx.Done() }
func (l *changeLog) Lag() time.Duration               { return 0 }

func (l *changeLog) Deliver(c []notify.Change) {
	if l.gate != nil {
		<-l.gate
	}
	l.delivered <- c
}

func (l *changeLog) Forget(user int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgotten = append(l.forgotten, user)
}

// expect fails unless the next deliveries are want, in order.
func (l *changeLog) expect(tb testing.TB, want ...[]notify.Change) {
	tb.Helper()
	for _, w := range want {
		select {
		case got := <-l.delivered:
			if !reflect.DeepEqual(got, w) {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(w)
				tb.Fatalf("delivered\n%s\nwant\n%s", a, b)
			}
		case <-time.After(testkit.Timeout):
			tb.Fatal("nothing delivered")
		}
	}
}

// waitCatchUp waits for a CatchUpAll.
func (l *changeLog) waitCatchUp(tb testing.TB) {
	tb.Helper()
	testkit.Receive(tb, l.caughtUp, "a catch-up")
}

// brokerOptions tweak newBroker.
type brokerOptions struct {
	maxBytes int
	maxLag   time.Duration
	gate     chan struct{} // see changeLog
}

func newBroker(tb testing.TB, url, prefix string, opt brokerOptions) (*natsbroker.Broker, *changeLog) {
	tb.Helper()
	d := config.Default().Cluster
	n := d.NATS
	n.URL, n.SubjectPrefix = url, prefix
	if opt.maxBytes != 0 {
		n.MaxMessageBytes = opt.maxBytes
	}
	if opt.maxLag == 0 {
		opt.maxLag = d.MaxListenerLag.D()
	}
	log := newChangeLog(opt.gate)
	b, err := natsbroker.New(natsbroker.Config{NATS: n, Secret: []byte(testSecret), MaxLag: opt.maxLag},
		log, slog.New(slog.DiscardHandler), nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		b.Close()
	})
	return b, log
}

func newChange(user, seq int64, title string) notify.Change {
	at := time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC)
	return notify.Change{
		Kind: notify.ChangeNew, User: user, Seq: seq, At: at, Unread: seq,
		Notification: &notify.Notification{ID: seq, UserID: user, Title: title, Style: notify.StyleInfo, CreatedAt: at},
	}
}

// TestBrokerCarriesChanges: Publish delivers here at once and, whole and
// in order, to the instances watching each user; a batch too large for
// one message goes as one message per change; a change too large for a
// message is not sent (the receivers repair it from the database).
func TestBrokerCarriesChanges(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix(t)
	a, aLog := newBroker(t, url, prefix, brokerOptions{maxBytes: 4096})
	b, bLog := newBroker(t, url, prefix, brokerOptions{maxBytes: 4096})
	ctx := context.Background()
	if err := b.Watch(ctx, 1); err != nil {
		t.Fatal(err)
	}
	batch := []notify.Change{newChange(1, 1, "one"), newChange(2, 1, "other user"), newChange(1, 2, "two")}
	if err := a.Publish(ctx, batch); err != nil {
		t.Fatal(err)
	}
	aLog.expect(t, batch)
	bLog.expect(t, []notify.Change{batch[0], batch[2]})

	big := []notify.Change{newChange(1, 3, strings.Repeat("a", 1500)), newChange(1, 4, strings.Repeat("b", 1500)), newChange(1, 5, strings.Repeat("c", 1500))}
	if err := a.Publish(ctx, big); err != nil {
		t.Fatal(err)
	}
	aLog.expect(t, big)
	bLog.expect(t, big[:1], big[1:2], big[2:])

	huge := []notify.Change{newChange(1, 6, strings.Repeat("h", 5000)), newChange(1, 7, "after")}
	if err := a.Publish(ctx, huge); !errors.Is(err, natsbroker.ErrTooLarge) {
		t.Fatalf("Publish(huge) = %v, want ErrTooLarge", err)
	}
	aLog.expect(t, huge)
	bLog.expect(t, huge[1:])

	// A revoked session (no user) reaches every instance, watching or not.
	revoked := []notify.Change{{Kind: notify.ChangeSession, Session: 42, At: time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC)}}
	if err := a.Publish(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	aLog.expect(t, revoked)
	bLog.expect(t, revoked)

	b.Unwatch(1)
	bLog.mu.Lock()
	forgotten := bLog.forgotten
	bLog.mu.Unlock()
	if !reflect.DeepEqual(forgotten, []int64{1}) {
		t.Errorf("forgotten = %v, want [1]: Unwatch forgets the user's sequence", forgotten)
	}
}

// TestBrokerCatchesUpAfterReconnect: each (re)connection to NATS makes the
// receiver catch every watched user up from the database.
func TestBrokerCatchesUpAfterReconnect(t *testing.T) {
	srv := natstest.Start(t)
	b, log := newBroker(t, srv.URL, natstest.Prefix(t), brokerOptions{})
	if err := b.Watch(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	log.waitCatchUp(t) // the first connection
	srv.Stop()
	srv.Restart()
	log.waitCatchUp(t)
}

// TestBrokerLagFailsReady: a change that waits to be handed to the
// sockets (a stalled receiver) counts as delivery lag, and past MaxLag
// Ready fails until it is handed over.
func TestBrokerLagFailsReady(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix(t)
	gate := make(chan struct{})
	a, _ := newBroker(t, url, prefix, brokerOptions{})
	b, bLog := newBroker(t, url, prefix, brokerOptions{maxLag: 50 * time.Millisecond, gate: gate})
	ctx := context.Background()
	if err := b.Watch(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("Ready = %v before any change", err)
	}
	change := []notify.Change{newChange(1, 1, "stalled")}
	if err := a.Publish(ctx, change); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "Ready to fail", func() bool { return notify.ErrorCode(b.Ready(ctx)) == notify.EUNAVAILABLE })
	if b.Lag() <= 50*time.Millisecond {
		t.Errorf("Lag = %v while Ready fails", b.Lag())
	}
	close(gate)
	bLog.expect(t, change)
	testkit.Eventually(t, "Ready", func() bool { return b.Ready(ctx) == nil })
}

// TestBrokerServerMaxPayload: a server whose max_payload is below
// cluster.nats.max_message_bytes bounds the messages too: a batch over it goes one change
// per message.
func TestBrokerServerMaxPayload(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(conf, []byte("max_payload: 2048\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := natstest.Start(t, "-c", conf)
	prefix := natstest.Prefix(t)
	a, _ := newBroker(t, srv.URL, prefix, brokerOptions{})
	b, bLog := newBroker(t, srv.URL, prefix, brokerOptions{})
	if err := b.Watch(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	batch := []notify.Change{newChange(1, 1, strings.Repeat("a", 900)), newChange(1, 2, strings.Repeat("b", 900))}
	if err := a.Publish(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	bLog.expect(t, batch[:1], batch[1:])
}
