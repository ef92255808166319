package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

const (
	// flushTimeout bounds the round trip that makes a new subscription
	// active on the server.
	flushTimeout = 5 * time.Second
	// connName is the connection's name in the server's monitoring.
	connName = "notifyd"
)

// ErrTooLarge is returned by Publish for a payload whose sealed message is
// above cluster.nats.max_message_bytes. Nothing is sent: the receivers see a gap
// and read the change from the database.
var ErrTooLarge = errors.New("natsbroker: message too large")

// Config configures a Bus. It comes from the validated configuration
// (config.Default holds the defaults); NewBus substitutes none.
type Config struct {
	// NATS is [cluster.nats]: the connection, and the reconnect wait,
	// the largest message and the receive queue.
	NATS   config.NATS
	Secret []byte // cluster.secret: the sealing key is derived from it
	// MaxLag is how long the connection may be down before Ready fails
	// (cluster.max_listener_lag).
	MaxLag time.Duration
}

// BusReceiver is told what the bus receives, always on Run's goroutine,
// in the order received; ctx is Run's.
type BusReceiver interface {
	// Receive hands over the payload of an authentic message for user.
	Receive(ctx context.Context, user int64, payload []byte)
	// Resync says messages may have been missed (the connection was lost,
	// or the queue overflowed): catch every watched user up from the
	// database. Subscriptions are active again when it is called.
	Resync(ctx context.Context)
}

// Bus carries sealed payloads between notifyd instances on per-user NATS
// subjects (<subject_prefix>.u.<user_id>). An instance subscribes to a
// user's subject while it holds sockets of that user (Watch, Unwatch), and
// always to <subject_prefix>.all, which carries what belongs to no user
// (NoUser).
type Bus struct {
	cfg     Config
	nc      *nats.Conn
	seal    *sealer
	open    *opener // Run's goroutine only
	rcv     BusReceiver
	logger  *slog.Logger
	metrics *Metrics
	now     func() time.Time
	prefix  string // "<subject_prefix>.u."
	all     string // "<subject_prefix>.all"

	msgs   chan *nats.Msg // every subscription delivers here, in arrival order
	resync chan struct{}  // 1-buffered: a resync is due
	done   chan struct{}  // closed when the connection is closed
	once   sync.Once

	mu        sync.Mutex
	downSince time.Time // zero while connected
	busySince time.Time // see setBusy
	busyMsg   bool
	// lastReconnectErr is the last failed attempt's error, logged once.
	lastReconnectErr string
	dropping         bool                         // a message was dropped since the connection was up
	subs             map[int64]*nats.Subscription // of the watched users
}

// NewBus connects to NATS. A server that cannot be reached, or that
// refuses the credentials, is retried in the background (Ready fails
// meanwhile); a file that cannot be read is an error naming its key.
func NewBus(cfg Config, rcv BusReceiver, logger *slog.Logger, metrics *Metrics) (*Bus, error) {
	keys, err := newKeyring(cfg.Secret)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	b := &Bus{
		cfg: cfg, rcv: rcv, logger: logger, metrics: metrics, now: time.Now,
		prefix: cfg.NATS.SubjectPrefix + ".u.",
		all:    cfg.NATS.SubjectPrefix + ".all",
		msgs:   make(chan *nats.Msg, cfg.NATS.Queue),
		resync: make(chan struct{}, 1),
		done:   make(chan struct{}),
		subs:   map[int64]*nats.Subscription{},
	}
	b.downSince = b.now()
	if b.seal, err = newSealer(keys, b.now); err != nil {
		return nil, err
	}
	b.open = newOpener(keys, b.seal.id, cfg.NATS.MaxMessageBytes, b.now)
	opts, err := options(cfg.NATS)
	if err != nil {
		return nil, err
	}
	opts = append(opts, b.handlers()...)
	opts = append(opts,
		nats.Name(connName), nats.NoEcho(), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectWait(cfg.NATS.ReconnectWait.D()), nats.Timeout(connectTimeout),
		nats.PingInterval(pingInterval), nats.MaxPingsOutstanding(maxPingsOut))
	nc, err := nats.Connect(cfg.NATS.URL, opts...)
	if err != nil {
		// The error may quote the URL, credentials included.
		return nil, fmt.Errorf("natsbroker: connect: %s", redactError(err))
	}
	b.nc = nc
	if nc.IsConnected() {
		b.setDown(false)
	}
	// Not confirmed: what it carries is checked against the database by
	// the receivers' audit anyway.
	if _, err := nc.ChanSubscribe(b.all, b.msgs); err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsbroker: subscribe %s: %w", b.all, err)
	}
	return b, nil
}

func (b *Bus) closeDone() { b.once.Do(func() { close(b.done) }) }

// NoUser is the user of what concerns no user in particular (a revoked
// session, whose user the publisher does not know): it goes to every
// instance. User ids start at 1.
const NoUser = 0

// subject is the subject of user's changes.
func (b *Bus) subject(user int64) string {
	if user == NoUser {
		return b.all
	}
	return b.prefix + strconv.FormatInt(user, 10)
}

// user parses the user id of a subject of this bus.
func (b *Bus) user(subject string) (int64, bool) {
	if subject == b.all {
		return NoUser, true
	}
	rest, ok := strings.CutPrefix(subject, b.prefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > NoUser
}

// Publish seals payload and hands it to the connection for user's
// subject, or returns ErrTooLarge when it exceeds MaxMessageBytes or the
// server's max_payload. It does not wait for the server: NATS delivers at
// most once, and receivers repair what is lost from the database. While
// the connection is down, messages wait in nats.go's reconnect buffer
// (8 MiB); beyond it they are dropped (notifyd_nats_dropped_total).
func (b *Bus) Publish(user int64, payload []byte) error {
	subject := b.subject(user)
	msg := b.seal.seal(subject, payload)
	limit := int64(b.cfg.NATS.MaxMessageBytes)
	if server := b.nc.MaxPayload(); server > 0 {
		limit = min(limit, server) // the server's max_payload, when lower
	}
	if int64(len(msg)) > limit {
		return ErrTooLarge
	}
	err := b.nc.Publish(subject, msg)
	if errors.Is(err, nats.ErrReconnectBufExceeded) {
		// A long outage: the receivers will repair from the database.
		// Counted, and logged once per outage rather than per change.
		b.metrics.dropped.Inc()
		b.logDropOnce()
		return nil
	}
	if err != nil {
		return fmt.Errorf("natsbroker: publish: %w", err)
	}
	b.metrics.published.Inc()
	return nil
}

// logDropOnce warns of the first message dropped since the connection was
// last up.
func (b *Bus) logDropOnce() {
	b.mu.Lock()
	first := !b.dropping
	b.dropping = true
	b.mu.Unlock()
	if first {
		b.logger.Warn("natsbroker: NATS unreachable and the reconnect buffer full: changes are not sent; other instances will read them from the database")
	}
}

// Ready fails with EUNAVAILABLE when the connection has been down for
// longer than Config.MaxLag.
func (b *Bus) Ready(context.Context) error {
	b.mu.Lock()
	since := b.downSince
	b.mu.Unlock()
	if since.IsZero() {
		return nil
	}
	if d := b.now().Sub(since); d > b.cfg.MaxLag {
		return notify.Errorf(notify.EUNAVAILABLE, "NATS disconnected for %s", d.Round(time.Millisecond))
	}
	return nil
}

// Close closes the connection; Run returns. Safe to call more than once.
func (b *Bus) Close() {
	b.nc.Close()
	b.closeDone()
}
