package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MinAPIKeyLength is the shortest publisher key accepted: keys are bearer
// secrets, so a short one can be guessed. `openssl rand -hex 32` gives 64.
const MinAPIKeyLength = 32

// isPlaceholderKey reports whether key is one of the placeholders written
// in the repository's documentation and compose file, or looks like one:
// a key anyone can read must not open the publisher API.
func isPlaceholderKey(key string) bool {
	k := strings.ToLower(key)
	switch k {
	case "change-me-to-a-long-random-key", "dev-only-insecure-publisher-key":
		return true
	}
	for _, word := range []string{"change-me", "changeme", "insecure", "placeholder"} {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

// Validate reports every invalid value, each as a *KeyError naming its key,
// joined with errors.Join; nil when c is usable. Messages never contain
// secret values. An empty ws.allowed_origins is valid: Normalized fills it.
func (c Config) Validate() error {
	var v validator

	v.addr("http.addr", c.HTTP.Addr)
	v.publicURL("http.public_url", c.HTTP.PublicURL, "http", "https")
	for i, p := range c.HTTP.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				v.add(index("http.trusted_proxies", i), "%q is neither an IP address nor a CIDR range", p)
			}
		}
	}
	v.origins("http.cors_origins", c.HTTP.CORSOrigins)
	v.positive("http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	v.positive("http.read_header_timeout", c.HTTP.ReadHeaderTimeout)
	v.positive("http.read_timeout", c.HTTP.ReadTimeout)
	v.positive("http.idle_timeout", c.HTTP.IdleTimeout)
	v.positive("http.write_timeout", c.HTTP.WriteTimeout)
	if c.HTTP.MaxBodyBytes < 1024 {
		v.add("http.max_body_bytes", "must be at least 1024, got %d", c.HTTP.MaxBodyBytes)
	}

	v.addr("ws.addr", c.WS.Addr)
	v.publicURL("ws.public_url", c.WS.PublicURL, "ws", "wss")
	v.origins("ws.allowed_origins", c.WS.AllowedOrigins)
	v.positive("ws.handshake_timeout", c.WS.HandshakeTimeout)
	v.positive("ws.auth_timeout", c.WS.AuthTimeout)
	v.positive("ws.ping_interval", c.WS.PingInterval)
	v.positive("ws.pong_timeout", c.WS.PongTimeout)
	v.positive("ws.write_timeout", c.WS.WriteTimeout)
	v.between("ws.max_message_bytes", c.WS.MaxMessageBytes, 256, 1<<20)
	v.between("ws.max_replay", int64(c.WS.MaxReplay), 0, 100000)
	v.between("ws.send_queue", int64(c.WS.SendQueue), 1, 65536)
	v.between("ws.max_connections_per_user", int64(c.WS.MaxConnectionsPerUser), 1, 1000)
	v.between("ws.max_unauthenticated_per_address", int64(c.WS.MaxUnauthPerAddress), 1, 100000)
	v.between("ws.max_unauthenticated", int64(c.WS.MaxUnauth), 1, 1000000)

	if c.Database.URL == "" {
		if strings.TrimSpace(c.Database.SQLitePath) == "" {
			v.add("database.sqlite_path", "must not be empty when database.url is empty (SQLite is used)")
		}
	} else {
		v.postgresURL("database.url", c.Database.URL)
	}
	if c.Database.MaxOpenConns < 1 {
		v.add("database.max_open_conns", "must be at least 1, got %d", c.Database.MaxOpenConns)
	}
	v.positive("database.query_timeout", c.Database.QueryTimeout)
	switch n := c.Database.Committers; {
	case n < 0:
		v.add("database.committers", "must be 0 (the dialect's default) or more, got %d", n)
	case n > 1 && c.Database.URL == "":
		v.add("database.committers", "must be 0 or 1 with SQLite, which has one writer, got %d", n)
	case n > 1 && n >= c.Database.MaxOpenConns:
		v.add("database.committers", "must be less than database.max_open_conns (%d), to leave a connection for the reads, got %d", c.Database.MaxOpenConns, n)
	}
	v.between("database.batch_max_rows", int64(c.Database.BatchMaxRows), 1, 10000)
	if c.Database.BatchMaxWait < 0 || c.Database.BatchMaxWait.D() > time.Second {
		v.add("database.batch_max_wait", "must be from \"0s\" to \"1s\", got %q", c.Database.BatchMaxWait.D().String())
	}

	for i, k := range c.Auth.APIKeys {
		// Never print the key, not even in part.
		if utf8.RuneCountInString(k) < MinAPIKeyLength {
			v.add(index("auth.api_keys", i), "must be at least %d characters (key not shown); generate one with `openssl rand -hex 32`", MinAPIKeyLength)
		} else if isPlaceholderKey(k) {
			v.add(index("auth.api_keys", i), "is a documented placeholder, not a secret; generate one with `openssl rand -hex 32`")
		}
		if strings.ContainsFunc(k, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) {
			v.add(index("auth.api_keys", i), "must not contain spaces or commas (key not shown)")
		}
	}
	v.positive("auth.session_ttl", c.Auth.SessionTTL)
	v.jwt(c.Auth.JWT)
	if c.Auth.LoginPerMinuteIP < 1 {
		v.add("auth.login_per_minute_ip", "must be at least 1, got %d", c.Auth.LoginPerMinuteIP)
	}
	if c.Auth.LoginPerMinuteUser < 1 {
		v.add("auth.login_per_minute_user", "must be at least 1, got %d", c.Auth.LoginPerMinuteUser)
	}
	if c.Auth.LoginPerMinute < 1 {
		v.add("auth.login_per_minute", "must be at least 1, got %d", c.Auth.LoginPerMinute)
	}
	v.between("auth.hash_concurrency", int64(c.Auth.HashConcurrency), 0, 1024)
	v.between("auth.hash_queue", int64(c.Auth.HashQueue), 1, 100000)
	v.between("auth.max_sessions_per_user", int64(c.Auth.MaxSessionsPerUser), 1, 10000)

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		v.add("log.format", "must be text or json, got %q", c.Log.Format)
	}

	v.cluster(c)
	if c.Cluster.ListenURL != "" {
		v.postgresURL("cluster.listen_url", c.Cluster.ListenURL)
	}
	v.positive("cluster.max_listener_lag", c.Cluster.MaxListenerLag)
	v.positive("cluster.gap_wait", c.Cluster.GapWait)
	v.positive("cluster.audit_interval", c.Cluster.AuditInterval)
	v.positive("cluster.session_audit_interval", c.Cluster.SessionAuditInterval)
	v.positive("cluster.min_backoff", c.Cluster.MinBackoff)
	v.positive("cluster.max_backoff", c.Cluster.MaxBackoff)
	if c.Cluster.MinBackoff > 0 && c.Cluster.MaxBackoff < c.Cluster.MinBackoff {
		v.add("cluster.max_backoff", "must be at least cluster.min_backoff (%s), got %q",
			c.Cluster.MinBackoff.D(), c.Cluster.MaxBackoff.D().String())
	}
	v.positive("cluster.idle_check", c.Cluster.IdleCheck)
	v.nats(c.Cluster.NATS)

	// 0 turns a retention rule off.
	v.notNegative("retention.read_after", c.Retention.ReadAfter)
	v.notNegative("retention.unread_after", c.Retention.UnreadAfter)
	v.positive("retention.interval", c.Retention.Interval)
	v.between("retention.batch_size", int64(c.Retention.BatchSize), 1, 100000)
	// 0: no pause between two batches.
	v.notNegative("retention.batch_pause", c.Retention.BatchPause)
	v.positive("publisher.idempotency_ttl", c.Publisher.IdempotencyTTL)
	// "" turns the metrics listener off.
	if c.Metrics.Addr != "" {
		v.addr("metrics.addr", c.Metrics.Addr)
	} else if c.Metrics.Pprof {
		v.add("metrics.pprof", "needs the metrics listener: metrics.addr is empty")
	}

	v.between("demo.tasks_per_minute", int64(c.Demo.TasksPerMinute), 1, 10000)
	// Below 25 the collector runs nearly all the time; 0 keeps Go's own.
	if c.Runtime.GCPercent != 0 {
		v.between("runtime.gc_percent", int64(c.Runtime.GCPercent), 25, 10000)
	}
	// A floor below 16 MiB is under the heap of an idle notifyd: no effect.
	if c.Runtime.GCMinHeapMiB != 0 {
		v.between("runtime.gc_min_heap_mib", c.Runtime.GCMinHeapMiB, 16, 1<<20)
	}
	// Below 64 MiB the heap of a few thousand sockets alone is over it,
	// and the collector would run without end.
	if c.Runtime.MemoryLimitMiB != 0 {
		v.between("runtime.memory_limit_mib", c.Runtime.MemoryLimitMiB, 64, 1<<30)
	}

	return errors.Join(v.errs...)
}

// validator collects the errors of Validate.
type validator struct{ errs []error }

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, &KeyError{Key: key, Reason: fmt.Sprintf(format, args...)})
}

// addr checks a listen address: host:port with a numeric port, host optional
// (":8000" listens on every interface; port 0 picks a free port).
func (v *validator) addr(key, s string) {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		v.add(key, "%q is not host:port (for example \":8000\")", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "%q: port must be a number from 0 to 65535", s)
	}
}

// publicURL checks an absolute URL with one of the schemes and a host.
func (v *validator) publicURL(key, s string, schemes ...string) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		v.add(key, "%q must be an absolute URL such as %s://localhost:8000", s, schemes[0])
		return
	}
	for _, sc := range schemes {
		if strings.EqualFold(u.Scheme, sc) {
			return
		}
	}
	v.add(key, "%q: scheme must be %s", s, strings.Join(schemes, " or "))
}

// postgresURL checks a Postgres URL without ever printing it: it may hold a
// password.
func (v *validator) postgresURL(key, s string) {
	u, err := url.Parse(s)
	if err != nil {
		v.add(key, "not a valid URL (value not shown)")
		return
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		v.add(key, "must be a postgres:// or postgresql:// URL (value not shown)")
	}
}

func (v *validator) origins(key string, list []string) {
	for i, o := range list {
		if _, err := Origin(o); err != nil {
			v.add(index(key, i), "%v", err)
		}
	}
}

func (v *validator) positive(key string, d Duration) {
	if d <= 0 {
		v.add(key, "must be a positive duration such as \"10s\", got %q", d.D().String())
	}
}

func (v *validator) notNegative(key string, d Duration) {
	if d < 0 {
		v.add(key, "must be 0 (off) or a positive duration, got %q", d.D().String())
	}
}

func (v *validator) between(key string, n, lo, hi int64) {
	if n < lo || n > hi {
		v.add(key, "must be from %d to %d, got %d", lo, hi, n)
	}
}

// index names one item of a list key: "auth.api_keys[1]".
func index(key string, i int) string { return key + "[" + strconv.Itoa(i) + "]" }

// cluster checks the broker and its secret. The secret is never printed.
func (v *validator) cluster(c Config) {
	switch c.Cluster.Broker {
	case BrokerLocal:
		return
	case BrokerPostgres, BrokerNATS:
		// The NATS broker too: instances repair what they miss from the
		// one database they share.
		if c.Database.URL == "" {
			v.add("cluster.broker", "%s requires database.url (Postgres); SQLite cannot be shared between instances", c.Cluster.Broker)
		}
	default:
		v.add("cluster.broker", "must be local, postgres or nats, got %q", c.Cluster.Broker)
		return
	}
	switch {
	case c.Cluster.Secret == "":
		v.add("cluster.secret", "is required with cluster.broker = %q; generate one with `openssl rand -hex 32`", c.Cluster.Broker)
	case len(c.Cluster.Secret) < MinClusterSecret:
		v.add("cluster.secret", "must be at least %d bytes (secret not shown); generate one with `openssl rand -hex 32`", MinClusterSecret)
	case isPlaceholderKey(c.Cluster.Secret):
		v.add("cluster.secret", "is a documented placeholder, not a secret; generate one with `openssl rand -hex 32`")
	}
}
