// Package config loads notifyd's configuration: defaults, then config.toml,
// then NOTIFYD_* environment variables, then validation. Every key and its
// default is documented in the repository's config.toml.
package config

import "time"

// Config is the whole configuration. Each constructor receives only its
// section.
type Config struct {
	HTTP      HTTP      `toml:"http"`
	WS        WS        `toml:"ws"`
	Database  Database  `toml:"database"`
	Auth      Auth      `toml:"auth"`
	Log       Log       `toml:"log"`
	Cluster   Cluster   `toml:"cluster"`
	Retention Retention `toml:"retention"`
	Publisher Publisher `toml:"publisher"`
	Demo      Demo      `toml:"demo"`
	Metrics   Metrics   `toml:"metrics"`
	Runtime   Runtime   `toml:"runtime"`
}

// HTTP configures the API listener.
type HTTP struct {
	Addr            string   `toml:"addr"`             // ":8000"
	PublicURL       string   `toml:"public_url"`       // "http://localhost:8000": its origin is the default allowed origin
	TrustedProxies  []string `toml:"trusted_proxies"`  // none: the client IP is the socket peer
	CORSOrigins     []string `toml:"cors_origins"`     // none: no CORS headers
	ShutdownTimeout Duration `toml:"shutdown_timeout"` // "10s"
	MaxBodyBytes    int64    `toml:"max_body_bytes"`   // 65536
	// ReadHeaderTimeout bounds reading a request's headers, so a client
	// that trickles them cannot hold a connection (slowloris).
	ReadHeaderTimeout Duration `toml:"read_header_timeout"` // "5s"
	ReadTimeout       Duration `toml:"read_timeout"`        // "15s"
	IdleTimeout       Duration `toml:"idle_timeout"`        // "60s"
	// WriteTimeout bounds writing a response, so a client that never reads
	// cannot hold a connection and its buffers (not the websocket listener).
	WriteTimeout Duration `toml:"write_timeout"` // "30s"
}

// WS configures the websocket listener.
type WS struct {
	Addr           string   `toml:"addr"`            // ":8001"
	PublicURL      string   `toml:"public_url"`      // "ws://localhost:8001/ws"
	AllowedOrigins []string `toml:"allowed_origins"` // default: origin of http.public_url
	// HandshakeTimeout bounds reading the upgrade request, headers and
	// all, and how long a connection answered without an upgrade may stay
	// idle; the http section's timeouts are the API listener's.
	HandshakeTimeout      Duration `toml:"handshake_timeout"`        // "5s"
	AuthTimeout           Duration `toml:"auth_timeout"`             // "10s"
	MaxMessageBytes       int64    `toml:"max_message_bytes"`        // 4096
	MaxReplay             int      `toml:"max_replay"`               // 1000
	PingInterval          Duration `toml:"ping_interval"`            // "25s"
	PongTimeout           Duration `toml:"pong_timeout"`             // "10s"
	WriteTimeout          Duration `toml:"write_timeout"`            // "10s"
	SendQueue             int      `toml:"send_queue"`               // 256
	MaxConnectionsPerUser int      `toml:"max_connections_per_user"` // 16
	// Sockets that have not authenticated yet, per client address (IPv6
	// by /64) and in total; one more is refused with 429 at once.
	MaxUnauthPerAddress int `toml:"max_unauthenticated_per_address"` // 32
	MaxUnauth           int `toml:"max_unauthenticated"`             // 1024
}

// Database selects the store: Postgres when URL is set, else embedded
// SQLite at SQLitePath.
type Database struct {
	URL          string   `toml:"url"`            // "" (use SQLite)
	SQLitePath   string   `toml:"sqlite_path"`    // "notifyd.db"
	MaxOpenConns int      `toml:"max_open_conns"` // 20
	QueryTimeout Duration `toml:"query_timeout"`  // "5s": a query past it is "unavailable" (503), not a hang
	// Group commit: concurrent notifications share one transaction of at
	// most about BatchMaxRows rows, collected for at most BatchMaxWait.
	BatchMaxRows int      `toml:"batch_max_rows"` // 256
	BatchMaxWait Duration `toml:"batch_max_wait"` // "1ms"; "0s": commit what is queued at once
	// Committers: how many batches may be in their transaction at once
	// (0: the dialect's default, see Database.CommitterCount).
	Committers int `toml:"committers"` // 0
}

// PostgresCommitters is the number of committers on Postgres when
// database.committers is 0 (docs/decisions.md, "Concurrent group
// commits").
const PostgresCommitters = 1

// CommitterCount is database.committers, or when it is 0 the dialect's
// default: 1 on SQLite, which has one writer (a second transaction would
// only wait for the first); on Postgres PostgresCommitters, at most
// max_open_conns - 1 so that a connection is left for the reads.
func (d Database) CommitterCount() int {
	switch {
	case d.Committers > 0:
		return d.Committers
	case d.URL == "":
		return 1
	default:
		return max(1, min(PostgresCommitters, d.MaxOpenConns-1))
	}
}

// Auth configures users, sessions and publisher keys.
type Auth struct {
	APIKeys            []string `toml:"api_keys"`              // none: publisher routes refuse every call
	AllowSignup        bool     `toml:"allow_signup"`          // true
	CookieSecure       bool     `toml:"cookie_secure"`         // false (set true behind HTTPS)
	SessionTTL         Duration `toml:"session_ttl"`           // "720h"
	LoginPerMinuteIP   int      `toml:"login_per_minute_ip"`   // 20
	LoginPerMinuteUser int      `toml:"login_per_minute_user"` // 10: failed logins per username and address
	// LoginPerMinute bounds logins and sign-ups of every client together.
	LoginPerMinute int `toml:"login_per_minute"` // 600
	// Password hashes computed at once (0: the number of CPUs) and requests
	// allowed to wait for one; beyond them, 503 with Retry-After.
	HashConcurrency int `toml:"hash_concurrency"` // 0
	HashQueue       int `toml:"hash_queue"`       // 16
	// MaxSessionsPerUser caps the sessions of one user: opening one more
	// ends the oldest (its sockets are closed with 4401).
	MaxSessionsPerUser int `toml:"max_sessions_per_user"` // 50
	// JWT: tokens signed by the app's backend ([auth.jwt]).
	JWT JWT `toml:"jwt"`
}

// JWT configures the tokens an app's backend signs for its users: the
// subject ("sub") is the user's external id. No key configured: tokens are
// refused and only session secrets authenticate.
type JWT struct {
	HMACSecrets    []string `toml:"hmac_secrets"`     // none; HS256/384/512 keys, each at least 32 bytes; several for rotation
	PublicKeys     []string `toml:"public_keys"`      // none; PEM files (RSA, ECDSA P-256, Ed25519)
	JWKSURL        string   `toml:"jwks_url"`         // "": no JWKS
	JWKSMinRefresh Duration `toml:"jwks_min_refresh"` // "10s": an unknown kid refreshes the JWKS at most this often
	Issuer         string   `toml:"issuer"`           // "": "iss" not checked
	Audience       string   `toml:"audience"`         // "": "aud" not checked
	Leeway         Duration `toml:"leeway"`           // "30s": clock skew allowed on exp, nbf, iat
	// JWKSMaxWait bounds how long one verification may wait for the JWKS
	// (a first fetch, a refresh for an unknown kid).
	JWKSMaxWait Duration `toml:"jwks_max_wait"` // "2s"
}

// Publisher configures the publisher API.
type Publisher struct {
	// IdempotencyTTL is how long an Idempotency-Key is remembered; the
	// retention sweeper deletes older keys.
	IdempotencyTTL Duration `toml:"idempotency_ttl"` // "24h"
}

// Metrics configures the Prometheus listener. It is separate from the API
// listener because the metrics tell traffic and login-failure rates.
type Metrics struct {
	Addr string `toml:"addr"` // "127.0.0.1:9464"; "": no metrics listener
	// Pprof serves net/http/pprof under /debug/pprof/ on the metrics
	// listener and turns on block and mutex profiling.
	Pprof bool `toml:"pprof"` // false
}

// Runtime tunes Go's garbage collector, which trades memory for latency:
// it collects each time the heap has grown by GCPercent since the last
// collection, and while it marks, the requests in flight pay for it
// (BENCHMARKS.md, "The p99 at 1,000/s is the garbage collector's").
type Runtime struct {
	// GCPercent is Go's GOGC. 0 leaves the runtime's own setting (100
	// unless GOGC says otherwise). GOGC in the environment wins.
	GCPercent int `toml:"gc_percent"` // 100
	// GCMinHeapMiB is a floor under the heap size at which the collector
	// runs: while GCPercent's own goal is below it, the collector waits
	// until the heap reaches it (cmd/notifyd/heapfloor.go). 0: no floor.
	// Ignored when GOGC is in the environment.
	GCMinHeapMiB int64 `toml:"gc_min_heap_mib"` // 0
	// MemoryLimitMiB is Go's soft memory limit (GOMEMLIMIT): near it the
	// collector runs more often, whatever gc_percent says. 0: no limit.
	// GOMEMLIMIT in the environment wins.
	MemoryLimitMiB int64 `toml:"memory_limit_mib"` // 0
}

// Log configures the slog logger.
type Log struct {
	Level  string `toml:"level"`  // "info": debug|info|warn|error
	Format string `toml:"format"` // "text": text|json
}

// Cluster configures how changes reach the sockets: one process, or
// several instances sharing one Postgres.
type Cluster struct {
	Broker         string   `toml:"broker"`           // "local": local|postgres|nats
	Secret         string   `toml:"secret"`           // "": required (>= 32 bytes) with postgres and nats; authenticates doorbells, seals bus messages
	ListenURL      string   `toml:"listen_url"`       // "": database.url; must not go through a transaction pooler
	MaxListenerLag Duration `toml:"max_listener_lag"` // "5s"
	// GapWait is how long a change received above a gap in its user's
	// sequence waits for the missing ones before the user's sockets are
	// caught up from the database; AuditInterval is how often the seqs
	// of the users with sockets here are compared with the database;
	// SessionAuditInterval how often their sessions are (a socket of a
	// session deleted without a word reaching this instance is closed
	// within it: revocations normally arrive on the bus at once).
	GapWait              Duration `toml:"gap_wait"`               // "100ms"
	AuditInterval        Duration `toml:"audit_interval"`         // "1s"
	SessionAuditInterval Duration `toml:"session_audit_interval"` // "10s"
	// MinBackoff and MaxBackoff bound the delay between reconnects of the
	// postgres broker's listener (doubling from min to max); IdleCheck is
	// how long its connection may stay silent before it is pinged.
	MinBackoff Duration `toml:"min_backoff"` // "100ms"
	MaxBackoff Duration `toml:"max_backoff"` // "5s"
	IdleCheck  Duration `toml:"idle_check"`  // "5s"
	// NATS is the connection of the NATS broker ([cluster.nats]).
	NATS NATS `toml:"nats"`
}

// The brokers of cluster.broker.
const (
	BrokerLocal    = "local"    // one process: nothing leaves it
	BrokerPostgres = "postgres" // LISTEN/NOTIFY on the shared database
	BrokerNATS     = "nats"     // a NATS server ([cluster.nats])
)

// MinClusterSecret is the shortest cluster.secret accepted, in bytes.
const MinClusterSecret = 32

// Retention configures the sweeper of old notifications.
type Retention struct {
	ReadAfter   Duration `toml:"read_after"`   // "2160h" (90 days); "0s" keeps read notifications
	UnreadAfter Duration `toml:"unread_after"` // "0s": unread notifications are kept
	Interval    Duration `toml:"interval"`     // "1h"
	// BatchSize is the most rows one DELETE removes; BatchPause the wait
	// between two, which lets waiting writers in (SQLite's in particular).
	BatchSize  int      `toml:"batch_size"`  // 1000
	BatchPause Duration `toml:"batch_pause"` // "10ms"
}

// Demo configures the demonstration features of the web page.
type Demo struct {
	// Tasks turns on POST /api/tasks, whose tasks store a notification
	// each: on for the zero-config run, off in production deployments.
	Tasks          bool `toml:"tasks"`            // true
	TasksPerMinute int  `toml:"tasks_per_minute"` // 10: tasks a user may start per minute
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		HTTP: HTTP{
			Addr:              ":8000",
			PublicURL:         "http://localhost:8000",
			ShutdownTimeout:   Duration(10 * time.Second),
			MaxBodyBytes:      64 << 10,
			ReadHeaderTimeout: Duration(5 * time.Second),
			ReadTimeout:       Duration(15 * time.Second),
			IdleTimeout:       Duration(60 * time.Second),
			WriteTimeout:      Duration(30 * time.Second),
		},
		WS: WS{
			Addr:                  ":8001",
			PublicURL:             "ws://localhost:8001/ws",
			HandshakeTimeout:      Duration(5 * time.Second),
			AuthTimeout:           Duration(10 * time.Second),
			MaxMessageBytes:       4096,
			MaxReplay:             1000,
			PingInterval:          Duration(25 * time.Second),
			PongTimeout:           Duration(10 * time.Second),
			WriteTimeout:          Duration(10 * time.Second),
			SendQueue:             256,
			MaxConnectionsPerUser: 16,
			MaxUnauthPerAddress:   32,
			MaxUnauth:             1024,
		},
		Database: Database{
			SQLitePath:   "notifyd.db",
			MaxOpenConns: 20,
			QueryTimeout: Duration(5 * time.Second),
			BatchMaxRows: 256,
			BatchMaxWait: Duration(time.Millisecond),
		},
		Auth: Auth{
			AllowSignup:        true,
			SessionTTL:         Duration(720 * time.Hour),
			LoginPerMinuteIP:   20,
			LoginPerMinuteUser: 10,
			LoginPerMinute:     600,
			HashQueue:          16,
			MaxSessionsPerUser: 50,
			JWT: JWT{
				JWKSMinRefresh: Duration(10 * time.Second),
				Leeway:         Duration(30 * time.Second),
				JWKSMaxWait:    Duration(2 * time.Second),
			},
		},
		Log: Log{Level: "info", Format: "text"},
		Cluster: Cluster{
			Broker:               BrokerLocal,
			MaxListenerLag:       Duration(5 * time.Second),
			GapWait:              Duration(100 * time.Millisecond),
			AuditInterval:        Duration(time.Second),
			SessionAuditInterval: Duration(10 * time.Second),
			MinBackoff:           Duration(100 * time.Millisecond),
			MaxBackoff:           Duration(5 * time.Second),
			IdleCheck:            Duration(5 * time.Second),
			NATS: NATS{URL: DefaultNATSURL, SubjectPrefix: "notifyd",
				ReconnectWait: Duration(500 * time.Millisecond), MaxMessageBytes: 1 << 20, Queue: 1 << 16},
		},
		Retention: Retention{ReadAfter: Duration(90 * 24 * time.Hour), Interval: Duration(time.Hour),
			BatchSize: 1000, BatchPause: Duration(10 * time.Millisecond)},
		Publisher: Publisher{IdempotencyTTL: Duration(24 * time.Hour)},
		Demo:      Demo{Tasks: true, TasksPerMinute: 10},
		Metrics:   Metrics{Addr: "127.0.0.1:9464"},
		Runtime:   Runtime{GCPercent: DefaultGCPercent},
	}
}

// DefaultGCPercent is runtime.gc_percent's default (docs/decisions.md,
// "The garbage collector's setting").
const DefaultGCPercent = 100

// Duration is a time.Duration written as a Go duration string ("10s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
