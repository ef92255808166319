// Package cluster is the postgres broker (cluster.broker = "postgres"):
// several notifyd instances share one Postgres database, and each one's
// Listener is its notify.Broker.
//
// Publish delivers a change to this instance's sockets at once and rings
// a doorbell after the commit (a NOTIFY on Channel, sent by one goroutine
// in batches, outside the writing transaction). A doorbell carries ids,
// counts and seqs, never content or event data, and is authenticated with
// an HMAC of cluster.secret: any role of the database can LISTEN and
// NOTIFY, and one without the secret can neither read nor forge a change.
// Each instance LISTENs on one dedicated connection, drops its own
// doorbells, reads back the rows of the others in batches on a goroutine
// that never holds up the next doorbell, and hands the changes to a
// notify.Receiver, which drops duplicates and repairs gaps from the
// database by the users' seqs. When the connection drops, the Listener
// reconnects with backoff, LISTENs again, and catches every socket up.
//
// The listener's connection is not from the store's pool and must be a
// direct or session-pooled one: a transaction pooler (PgBouncer in
// transaction mode) cannot carry LISTEN.
package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/internal/gate"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
)

// ApplicationName is the application_name of the listener's connection,
// so that operators (and tests) can find it in pg_stat_activity.
const ApplicationName = "notifyd-listener"

// Constants of the broker, not tunables: every instance must agree on
// eventTTL (it also bounds the age of a doorbell accepted, staleAfter),
// and outboxSize only guards memory against a database that stops
// answering NOTIFY (docs/decisions.md, "Defaults in one place").
const (
	eventTTL   = time.Minute // cluster_events rows older than this are swept
	outboxSize = 100_000     // changes waiting for their doorbell
)

// connectTimeout bounds a connection attempt and its LISTEN.
const connectTimeout = 5 * time.Second

// Config configures a Listener: the [cluster] section (config.Default
// holds the defaults; New substitutes none, every duration must be
// positive).
type Config struct {
	// Secret is cluster.secret: the doorbells' HMAC key is derived from
	// it. Required, the same on every instance.
	Secret string
	// URL is the Postgres URL to LISTEN on: cluster.listen_url, or
	// database.url when that is empty. Not through a transaction pooler.
	URL string
	// MaxLag is how long the listener may be down before Ready fails
	// (cluster.max_listener_lag).
	MaxLag time.Duration
	// MinBackoff and MaxBackoff bound the delay between reconnects, which
	// doubles from MinBackoff up to MaxBackoff (cluster.min_backoff,
	// cluster.max_backoff).
	MinBackoff, MaxBackoff time.Duration
	// IdleCheck is how long the connection may stay silent before the
	// listener pings it, to notice a connection that died without a word
	// (cluster.idle_check).
	IdleCheck time.Duration
	// Receiver tunes the gap repair and the audits (cluster.gap_wait,
	// cluster.audit_interval, cluster.session_audit_interval).
	Receiver notify.ReceiverConfig
}

// Store is what the listener reads and writes (store.Store).
type Store interface {
	notify.CatchUpStore
	// NotificationsByIDs returns the notifications with those ids,
	// ascending; missing ids are left out.
	NotificationsByIDs(ctx context.Context, ids []int64) ([]notify.Notification, error)
	// ExistingSessions returns which of ids still exist: a revocation's
	// doorbell closes sockets only for a session that is gone.
	ExistingSessions(ctx context.Context, ids []int64) (map[int64]bool, error)
	// ClusterEvent returns a stored event and its user (ENOTFOUND once
	// swept).
	ClusterEvent(ctx context.Context, id int64) (int64, notify.Event, error)
	// SweepClusterEvents deletes stored events created before before.
	SweepClusterEvents(ctx context.Context, before time.Time) (int64, error)
	// StoreEvent stores an event as a cluster_events row and returns its
	// id.
	StoreEvent(ctx context.Context, userID int64, e notify.Event) (int64, error)
	// Notify sends payloads on a NOTIFY channel, in order.
	Notify(ctx context.Context, channel string, payloads []string) error
}

// deps are the collaborators of a Listener, the parameters of New held
// together.
type deps struct {
	Store   Store
	Hub     *notify.Hub
	Metrics *metrics.Metrics // may be nil
}

// Listener is the postgres broker of one instance: it rings the doorbells
// of this instance's changes and delivers those of the others to the
// sockets of its hub. Run it once; Close stops it.
type Listener struct {
	cfg      Config
	connCfg  *pgx.ConnConfig
	deps     deps
	logger   *slog.Logger
	now      func() time.Time
	signer   signer
	origin   string // this instance's id in its doorbells
	receiver *notify.Receiver
	outbox   outbox // changes waiting for their doorbell (publish.go)
	inbox    inbox  // changes received, waiting for their read-back (deliver.go)

	base   context.Context // cancelled by Close
	cancel context.CancelFunc

	running gate.Gate // Run; none starts after Close has begun

	mu        sync.Mutex
	healthy   bool      // listening and caught up
	downSince time.Time // when it last stopped being healthy

	lastSweep time.Time // only touched by Run's goroutine
}

// New returns a Listener for cfg. It does not connect: Run does. It reads
// back and repairs from st, delivers to the sockets of hub, and counts in
// m, which may be nil (nothing recorded).
func New(cfg Config, st Store, hub *notify.Hub, logger *slog.Logger, m *metrics.Metrics) (*Listener, error) {
	sg, err := newSigner(cfg.Secret)
	if err != nil {
		return nil, err
	}
	connCfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("cluster: listen url is not a valid Postgres URL")
	}
	connCfg.RuntimeParams["application_name"] = ApplicationName
	base, cancel := context.WithCancel(context.Background())
	l := &Listener{
		cfg: cfg, connCfg: connCfg, logger: logger, now: time.Now,
		deps:   deps{Store: st, Hub: hub, Metrics: m},
		signer: sg, origin: rand.Text(),
		receiver: notify.NewReceiver(st, hub, cfg.Receiver, logger, m),
		base:     base, cancel: cancel,
	}
	l.outbox.init(outboxSize)
	l.inbox.init()
	l.downSince = l.now()
	return l, nil
}

// Connected reports whether the listener is listening and caught up, so
// that every doorbell is being delivered.
func (l *Listener) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.healthy
}

// DisconnectedFor returns how long the listener has not been delivering
// (not connected, or still catching up); 0 while it is. Before the first
// connection it counts from New.
func (l *Listener) DisconnectedFor() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.healthy {
		return 0
	}
	return l.now().Sub(l.downSince)
}

// Ready fails with EUNAVAILABLE once the listener has been disconnected
// for longer than MaxLag, or when the delivery lag (Lag) exceeds it:
// sockets on this instance then miss or wait for what other instances
// commit. /readyz uses it.
func (l *Listener) Ready(ctx context.Context) error {
	if d := l.DisconnectedFor(); d > l.cfg.MaxLag {
		return notify.Errorf(notify.EUNAVAILABLE, "cluster listener disconnected for %s", d.Round(time.Millisecond))
	}
	if d := l.Lag(); d > l.cfg.MaxLag {
		return notify.Errorf(notify.EUNAVAILABLE, "cluster delivery lag %s", d.Round(time.Millisecond))
	}
	return nil
}

// Lag is now minus the commit time of the oldest change received and not
// yet handed to the sockets: waiting for its read-back, or held by the
// receiver above a gap.
func (l *Listener) Lag() time.Duration {
	return max(l.inbox.lag(l.now()), l.receiver.Lag())
}

func (l *Listener) setHealthy(ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.healthy == ok {
		return
	}
	l.healthy = ok
	if !ok {
		l.downSince = l.now()
	}
}

// Close stops Run and waits until it has returned. It is safe to call
// more than once, and before or without Run.
//
// It then rings what was published after Run stopped (the last commits of
// a draining Service), so that other instances need not wait for their
// audit; call it before the store closes.
func (l *Listener) Close() {
	l.running.Close(l.cancel)
	l.flush()
}

// sleep waits d or until ctx is done, and reports whether ctx is still
// alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
