package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
)

func TestValidate(t *testing.T) {
	sec := func(s string) config.Duration {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return config.Duration(d)
	}
	tests := []struct {
		name    string
		change  func(c *config.Config)
		wantKey string // "" when valid
	}{
		{"defaults", func(c *config.Config) {}, ""},

		{"http.addr not host:port", func(c *config.Config) { c.HTTP.Addr = "8000" }, "http.addr"},
		{"http.addr port not a number", func(c *config.Config) { c.HTTP.Addr = ":http" }, "http.addr"},
		{"http.addr port too big", func(c *config.Config) { c.HTTP.Addr = ":70000" }, "http.addr"},
		{"http.addr port 0", func(c *config.Config) { c.HTTP.Addr = "127.0.0.1:0" }, ""},
		{"http.addr ipv6", func(c *config.Config) { c.HTTP.Addr = "[::1]:8000" }, ""},
		{"ws.addr empty", func(c *config.Config) { c.WS.Addr = "" }, "ws.addr"},

		{"http.public_url relative", func(c *config.Config) { c.HTTP.PublicURL = "/app" }, "http.public_url"},
		{"http.public_url ws scheme", func(c *config.Config) { c.HTTP.PublicURL = "ws://localhost:8000" }, "http.public_url"},
		{"http.public_url https with path", func(c *config.Config) { c.HTTP.PublicURL = "https://x.example/app/" }, ""},
		{"ws.public_url http scheme", func(c *config.Config) { c.WS.PublicURL = "http://localhost:8001/ws" }, "ws.public_url"},
		{"ws.public_url no host", func(c *config.Config) { c.WS.PublicURL = "ws:///ws" }, "ws.public_url"},
		{"ws.public_url wss", func(c *config.Config) { c.WS.PublicURL = "wss://x.example/ws" }, ""},

		{"http.trusted_proxies cidr and ip", func(c *config.Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "::1"} }, ""},
		{"http.trusted_proxies hostname", func(c *config.Config) { c.HTTP.TrustedProxies = []string{"10.0.0.1", "proxy.local"} }, "http.trusted_proxies[1]"},
		{"http.cors_origins path", func(c *config.Config) { c.HTTP.CORSOrigins = []string{"https://x.example/app"} }, "http.cors_origins[0]"},
		{"http.cors_origins star", func(c *config.Config) { c.HTTP.CORSOrigins = []string{"*"} }, "http.cors_origins[0]"},
		{"ws.allowed_origins null", func(c *config.Config) { c.WS.AllowedOrigins = []string{"null"} }, "ws.allowed_origins[0]"},
		{"ws.allowed_origins ftp", func(c *config.Config) { c.WS.AllowedOrigins = []string{"ftp://x.example"} }, "ws.allowed_origins[0]"},

		{"http.shutdown_timeout 0", func(c *config.Config) { c.HTTP.ShutdownTimeout = 0 }, "http.shutdown_timeout"},
		{"http.read_timeout negative", func(c *config.Config) { c.HTTP.ReadTimeout = sec("-1s") }, "http.read_timeout"},
		{"http.idle_timeout 0", func(c *config.Config) { c.HTTP.IdleTimeout = 0 }, "http.idle_timeout"},
		{"http.write_timeout 0", func(c *config.Config) { c.HTTP.WriteTimeout = 0 }, "http.write_timeout"},
		{"http.max_body_bytes 1023", func(c *config.Config) { c.HTTP.MaxBodyBytes = 1023 }, "http.max_body_bytes"},
		{"http.max_body_bytes 1024", func(c *config.Config) { c.HTTP.MaxBodyBytes = 1024 }, ""},

		{"ws.handshake_timeout 0", func(c *config.Config) { c.WS.HandshakeTimeout = 0 }, "ws.handshake_timeout"},
		{"ws.auth_timeout 0", func(c *config.Config) { c.WS.AuthTimeout = 0 }, "ws.auth_timeout"},
		{"ws.ping_interval 0", func(c *config.Config) { c.WS.PingInterval = 0 }, "ws.ping_interval"},
		{"ws.pong_timeout 0", func(c *config.Config) { c.WS.PongTimeout = 0 }, "ws.pong_timeout"},
		{"ws.write_timeout 0", func(c *config.Config) { c.WS.WriteTimeout = 0 }, "ws.write_timeout"},
		{"ws.max_message_bytes 255", func(c *config.Config) { c.WS.MaxMessageBytes = 255 }, "ws.max_message_bytes"},
		{"ws.max_message_bytes 256", func(c *config.Config) { c.WS.MaxMessageBytes = 256 }, ""},
		{"ws.max_message_bytes 1MiB", func(c *config.Config) { c.WS.MaxMessageBytes = 1 << 20 }, ""},
		{"ws.max_message_bytes 1MiB+1", func(c *config.Config) { c.WS.MaxMessageBytes = 1<<20 + 1 }, "ws.max_message_bytes"},
		{"ws.max_replay -1", func(c *config.Config) { c.WS.MaxReplay = -1 }, "ws.max_replay"},
		{"ws.max_replay 0", func(c *config.Config) { c.WS.MaxReplay = 0 }, ""},
		{"ws.max_replay 100001", func(c *config.Config) { c.WS.MaxReplay = 100001 }, "ws.max_replay"},
		{"ws.send_queue 0", func(c *config.Config) { c.WS.SendQueue = 0 }, "ws.send_queue"},
		{"ws.send_queue 65536", func(c *config.Config) { c.WS.SendQueue = 65536 }, ""},
		{"ws.send_queue 65537", func(c *config.Config) { c.WS.SendQueue = 65537 }, "ws.send_queue"},
		{"ws.max_connections_per_user 0", func(c *config.Config) { c.WS.MaxConnectionsPerUser = 0 }, "ws.max_connections_per_user"},
		{"ws.max_connections_per_user 1001", func(c *config.Config) { c.WS.MaxConnectionsPerUser = 1001 }, "ws.max_connections_per_user"},
		{"ws.max_unauthenticated_per_address 0", func(c *config.Config) { c.WS.MaxUnauthPerAddress = 0 }, "ws.max_unauthenticated_per_address"},
		{"ws.max_unauthenticated 0", func(c *config.Config) { c.WS.MaxUnauth = 0 }, "ws.max_unauthenticated"},

		{"auth.jwt.hmac_secrets 31 bytes", func(c *config.Config) {
			c.Auth.JWT.HMACSecrets = []string{strings.Repeat("a", 32), strings.Repeat("b", 31)}
		}, "auth.jwt.hmac_secrets[1]"},
		{"auth.jwt.hmac_secrets 32 bytes", func(c *config.Config) { c.Auth.JWT.HMACSecrets = []string{strings.Repeat("a", 32)} }, ""},
		{"auth.jwt.public_keys empty path", func(c *config.Config) { c.Auth.JWT.PublicKeys = []string{" "} }, "auth.jwt.public_keys[0]"},
		{"auth.jwt.jwks_url relative", func(c *config.Config) { c.Auth.JWT.JWKSURL = "/jwks.json" }, "auth.jwt.jwks_url"},
		{"auth.jwt.jwks_url https", func(c *config.Config) { c.Auth.JWT.JWKSURL = "https://id.example/jwks.json" }, ""},
		{"auth.jwt.jwks_min_refresh 0", func(c *config.Config) { c.Auth.JWT.JWKSMinRefresh = 0 }, "auth.jwt.jwks_min_refresh"},
		{"auth.jwt.leeway 0", func(c *config.Config) { c.Auth.JWT.Leeway = 0 }, ""},
		{"auth.jwt.leeway negative", func(c *config.Config) { c.Auth.JWT.Leeway = sec("-1s") }, "auth.jwt.leeway"},

		{"database.sqlite_path empty", func(c *config.Config) { c.Database.SQLitePath = "" }, "database.sqlite_path"},
		{"database.sqlite_path empty with postgres", func(c *config.Config) {
			c.Database.SQLitePath = ""
			c.Database.URL = "postgres://postgres@127.0.0.1:5432/notifyd?sslmode=disable"
		}, ""},
		{"database.url postgresql scheme", func(c *config.Config) { c.Database.URL = "postgresql://db/notifyd" }, ""},
		{"database.url mysql", func(c *config.Config) { c.Database.URL = "mysql://db/notifyd" }, "database.url"},
		{"database.url key=value DSN", func(c *config.Config) { c.Database.URL = "host=db user=postgres" }, "database.url"},
		{"database.max_open_conns 0", func(c *config.Config) { c.Database.MaxOpenConns = 0 }, "database.max_open_conns"},
		{"database.query_timeout 0", func(c *config.Config) { c.Database.QueryTimeout = 0 }, "database.query_timeout"},
		{"database.batch_max_rows 0", func(c *config.Config) { c.Database.BatchMaxRows = 0 }, "database.batch_max_rows"},
		{"database.batch_max_rows 10001", func(c *config.Config) { c.Database.BatchMaxRows = 10001 }, "database.batch_max_rows"},
		{"database.batch_max_rows 1", func(c *config.Config) { c.Database.BatchMaxRows = 1 }, ""},
		{"database.batch_max_wait 0", func(c *config.Config) { c.Database.BatchMaxWait = 0 }, ""},
		{"database.committers negative", func(c *config.Config) { c.Database.Committers = -1 }, "database.committers"},
		{"database.committers 1 with sqlite", func(c *config.Config) { c.Database.Committers = 1 }, ""},
		{"database.committers 2 with sqlite", func(c *config.Config) { c.Database.Committers = 2 }, "database.committers"},
		{"database.committers 4 with postgres", func(c *config.Config) {
			c.Database.URL = "postgres://postgres@127.0.0.1:5432/notifyd?sslmode=disable"
			c.Database.Committers = 4
		}, ""},
		{"database.committers max_open_conns with postgres", func(c *config.Config) {
			c.Database.URL = "postgres://postgres@127.0.0.1:5432/notifyd?sslmode=disable"
			c.Database.MaxOpenConns = 4
			c.Database.Committers = 4
		}, "database.committers"},
		{"database.batch_max_wait negative", func(c *config.Config) { c.Database.BatchMaxWait = -1 }, "database.batch_max_wait"},
		{"database.batch_max_wait 2s", func(c *config.Config) { c.Database.BatchMaxWait = config.Duration(2 * time.Second) }, "database.batch_max_wait"},

		{"auth.api_keys 32 characters", func(c *config.Config) { c.Auth.APIKeys = []string{testKey1} }, ""},
		{"auth.api_keys 31 characters", func(c *config.Config) { c.Auth.APIKeys = []string{testKey1, testKey1[1:]} }, "auth.api_keys[1]"},
		{"auth.api_keys 16 characters", func(c *config.Config) { c.Auth.APIKeys = []string{"0123456789abcdef"} }, "auth.api_keys[0]"},
		{"auth.api_keys counts characters", func(c *config.Config) { c.Auth.APIKeys = []string{strings.Repeat("é", 32)} }, ""},
		{"auth.api_keys comma", func(c *config.Config) { c.Auth.APIKeys = []string{"0123456789abcdef,0123456789abcdef"} }, "auth.api_keys[0]"},
		{"auth.api_keys README placeholder", func(c *config.Config) { c.Auth.APIKeys = []string{"change-me-to-a-long-random-key"} }, "auth.api_keys[0]"},
		{"auth.api_keys compose placeholder", func(c *config.Config) { c.Auth.APIKeys = []string{"dev-only-insecure-publisher-key"} }, "auth.api_keys[0]"},
		{"auth.api_keys lengthened placeholder", func(c *config.Config) { c.Auth.APIKeys = []string{testKey1, "CHANGE-ME-to-a-long-random-key-please"} }, "auth.api_keys[1]"},
		{"auth.max_sessions_per_user 0", func(c *config.Config) { c.Auth.MaxSessionsPerUser = 0 }, "auth.max_sessions_per_user"},
		{"auth.max_sessions_per_user 1", func(c *config.Config) { c.Auth.MaxSessionsPerUser = 1 }, ""},
		{"metrics.addr off", func(c *config.Config) { c.Metrics.Addr = "" }, ""},
		{"metrics.addr bad", func(c *config.Config) { c.Metrics.Addr = "9464" }, "metrics.addr"},
		{"metrics.pprof on", func(c *config.Config) { c.Metrics.Pprof = true }, ""},
		{"metrics.pprof without a listener", func(c *config.Config) { c.Metrics.Addr, c.Metrics.Pprof = "", true }, "metrics.pprof"},
		{"auth.session_ttl 0", func(c *config.Config) { c.Auth.SessionTTL = 0 }, "auth.session_ttl"},
		{"auth.login_per_minute_ip 0", func(c *config.Config) { c.Auth.LoginPerMinuteIP = 0 }, "auth.login_per_minute_ip"},
		{"auth.login_per_minute_user 0", func(c *config.Config) { c.Auth.LoginPerMinuteUser = 0 }, "auth.login_per_minute_user"},
		{"auth.login_per_minute 0", func(c *config.Config) { c.Auth.LoginPerMinute = 0 }, "auth.login_per_minute"},
		{"auth.hash_concurrency -1", func(c *config.Config) { c.Auth.HashConcurrency = -1 }, "auth.hash_concurrency"},
		{"auth.hash_queue 0", func(c *config.Config) { c.Auth.HashQueue = 0 }, "auth.hash_queue"},
		{"demo.tasks_per_minute 0", func(c *config.Config) { c.Demo.TasksPerMinute = 0 }, "demo.tasks_per_minute"},
		{"runtime.gc_percent 0 keeps Go's", func(c *config.Config) { c.Runtime.GCPercent = 0 }, ""},
		{"runtime.gc_percent 10", func(c *config.Config) { c.Runtime.GCPercent = 10 }, "runtime.gc_percent"},
		{"runtime.gc_percent -1", func(c *config.Config) { c.Runtime.GCPercent = -1 }, "runtime.gc_percent"},
		{"runtime.gc_min_heap_mib 0 is no floor", func(c *config.Config) { c.Runtime.GCMinHeapMiB = 0 }, ""},
		{"runtime.gc_min_heap_mib 8", func(c *config.Config) { c.Runtime.GCMinHeapMiB = 8 }, "runtime.gc_min_heap_mib"},
		{"runtime.gc_min_heap_mib -1", func(c *config.Config) { c.Runtime.GCMinHeapMiB = -1 }, "runtime.gc_min_heap_mib"},
		{"runtime.memory_limit_mib 32", func(c *config.Config) { c.Runtime.MemoryLimitMiB = 32 }, "runtime.memory_limit_mib"},
		{"runtime.memory_limit_mib 2048", func(c *config.Config) { c.Runtime.MemoryLimitMiB = 2048 }, ""},

		{"log.level trace", func(c *config.Config) { c.Log.Level = "trace" }, "log.level"},
		{"log.level warn", func(c *config.Config) { c.Log.Level = "warn" }, ""},
		{"log.format xml", func(c *config.Config) { c.Log.Format = "xml" }, "log.format"},

		{"cluster.broker postgres with sqlite", clusterOn("postgres", testClusterSecret, ""), "cluster.broker"},
		{"cluster.broker postgres", clusterOn("postgres", testClusterSecret, pgURL), ""},
		{"cluster.broker redis", func(c *config.Config) { c.Cluster.Broker = "redis" }, "cluster.broker"},
		{"cluster.secret missing", clusterOn("postgres", "", pgURL), "cluster.secret"},
		{"cluster.secret short", clusterOn("nats", "0123456789abcdef0123456789abcde", pgURL), "cluster.secret"},
		{"cluster.secret placeholder", clusterOn("nats", "change-me-to-a-long-random-cluster-secret", pgURL), "cluster.secret"},
		{"cluster.broker nats with sqlite", clusterOn("nats", testClusterSecret, ""), "cluster.broker"},
		{"cluster.broker nats", clusterOn("nats", testClusterSecret, pgURL), ""},
		{"cluster.listen_url not postgres", func(c *config.Config) { c.Cluster.ListenURL = "http://db" }, "cluster.listen_url"},
		{"cluster.max_listener_lag 0", func(c *config.Config) { c.Cluster.MaxListenerLag = 0 }, "cluster.max_listener_lag"},
		{"cluster.gap_wait 0", func(c *config.Config) { c.Cluster.GapWait = 0 }, "cluster.gap_wait"},
		{"cluster.audit_interval 0", func(c *config.Config) { c.Cluster.AuditInterval = 0 }, "cluster.audit_interval"},
		{"cluster.session_audit_interval 0", func(c *config.Config) { c.Cluster.SessionAuditInterval = 0 }, "cluster.session_audit_interval"},
		{"cluster.min_backoff 0", func(c *config.Config) { c.Cluster.MinBackoff = 0 }, "cluster.min_backoff"},
		{"cluster.max_backoff below min", func(c *config.Config) { c.Cluster.MaxBackoff = sec("50ms") }, "cluster.max_backoff"},
		{"cluster.max_backoff equal to min", func(c *config.Config) { c.Cluster.MaxBackoff = c.Cluster.MinBackoff }, ""},
		{"cluster.idle_check 0", func(c *config.Config) { c.Cluster.IdleCheck = 0 }, "cluster.idle_check"},
		{"cluster.nats.reconnect_wait 0", func(c *config.Config) { c.Cluster.NATS.ReconnectWait = 0 }, "cluster.nats.reconnect_wait"},
		{"cluster.nats.max_message_bytes small", func(c *config.Config) { c.Cluster.NATS.MaxMessageBytes = 100 }, "cluster.nats.max_message_bytes"},
		{"cluster.nats.queue 0", func(c *config.Config) { c.Cluster.NATS.Queue = 0 }, "cluster.nats.queue"},
		{"http.read_header_timeout 0", func(c *config.Config) { c.HTTP.ReadHeaderTimeout = 0 }, "http.read_header_timeout"},
		{"auth.jwt.jwks_max_wait 0", func(c *config.Config) { c.Auth.JWT.JWKSMaxWait = 0 }, "auth.jwt.jwks_max_wait"},

		{"retention.read_after 0 is off", func(c *config.Config) { c.Retention.ReadAfter = 0 }, ""},
		{"retention.read_after negative", func(c *config.Config) { c.Retention.ReadAfter = sec("-1h") }, "retention.read_after"},
		{"retention.unread_after negative", func(c *config.Config) { c.Retention.UnreadAfter = sec("-1h") }, "retention.unread_after"},
		{"retention.interval 0", func(c *config.Config) { c.Retention.Interval = 0 }, "retention.interval"},
		{"retention.batch_size 0", func(c *config.Config) { c.Retention.BatchSize = 0 }, "retention.batch_size"},
		{"retention.batch_pause 0 is none", func(c *config.Config) { c.Retention.BatchPause = 0 }, ""},
		{"retention.batch_pause negative", func(c *config.Config) { c.Retention.BatchPause = sec("-1ms") }, "retention.batch_pause"},

		{"cluster.nats url empty", func(c *config.Config) { c.Cluster.NATS.URL = " " }, "cluster.nats.url"},
		{"cluster.nats url list", func(c *config.Config) { c.Cluster.NATS.URL = "nats://a:4222, tls://b:4222,wss://c/ws" }, ""},
		{"cluster.nats url bad scheme", func(c *config.Config) { c.Cluster.NATS.URL = "nats://a:4222,http://b:4222" }, "cluster.nats.url[1]"},
		{"cluster.nats url no host", func(c *config.Config) { c.Cluster.NATS.URL = "nats://" }, "cluster.nats.url[0]"},
		{"cluster.nats url with credentials", func(c *config.Config) { c.Cluster.NATS.URL = "nats://u:p@a:4222" }, ""},
		{"cluster.nats creds_file", func(c *config.Config) { c.Cluster.NATS.CredsFile = "/n.creds" }, ""},
		{"cluster.nats nkey_seed_file", func(c *config.Config) { c.Cluster.NATS.NkeySeedFile = "/n.nk" }, ""},
		{"cluster.nats token", func(c *config.Config) { c.Cluster.NATS.Token = "t" }, ""},
		{"cluster.nats user and password", func(c *config.Config) { c.Cluster.NATS.User, c.Cluster.NATS.Password = "u", "p" }, ""},
		{"cluster.nats user without password", func(c *config.Config) { c.Cluster.NATS.User = "u" }, "cluster.nats.password"},
		{"cluster.nats password without user", func(c *config.Config) { c.Cluster.NATS.Password = "p" }, "cluster.nats.password"},
		{"cluster.nats two credentials", func(c *config.Config) { c.Cluster.NATS.CredsFile, c.Cluster.NATS.Token = "/n.creds", "t" }, "cluster.nats.creds_file"},
		{"cluster.nats tls ca alone", func(c *config.Config) { c.Cluster.NATS.TLSCAFile = "/ca.pem" }, ""},
		{"cluster.nats tls cert and key", func(c *config.Config) { c.Cluster.NATS.TLSCertFile, c.Cluster.NATS.TLSKeyFile = "/c.pem", "/k.pem" }, ""},
		{"cluster.nats tls cert without key", func(c *config.Config) { c.Cluster.NATS.TLSCertFile = "/c.pem" }, "cluster.nats.tls_key_file"},
		{"cluster.nats tls key without cert", func(c *config.Config) { c.Cluster.NATS.TLSKeyFile = "/k.pem" }, "cluster.nats.tls_key_file"},
		{"cluster.nats subject_prefix dotted", func(c *config.Config) { c.Cluster.NATS.SubjectPrefix = "acme.notifyd-1" }, ""},
		{"cluster.nats subject_prefix empty", func(c *config.Config) { c.Cluster.NATS.SubjectPrefix = "" }, "cluster.nats.subject_prefix"},
		{"cluster.nats subject_prefix wildcard", func(c *config.Config) { c.Cluster.NATS.SubjectPrefix = "notifyd.>" }, "cluster.nats.subject_prefix"},
		{"cluster.nats subject_prefix empty token", func(c *config.Config) { c.Cluster.NATS.SubjectPrefix = "a..b" }, "cluster.nats.subject_prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.change(&c)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wantKeys(t, err, tt.wantKey)
			if !strings.HasPrefix(err.Error(), tt.wantKey+": ") {
				t.Errorf("message %q does not start with the key", err)
			}
		})
	}
}

// testClusterSecret is a valid cluster.secret (32 bytes, no placeholder).
const testClusterSecret = "3f9c2b7e1a5d4c8f9e0b6a2d7c1f4e8b"

// pgURL is a Postgres database.url: cluster mode refuses SQLite.
const pgURL = "postgres://db/notifyd"

// clusterOn sets cluster.broker and cluster.secret, and database.url
// unless dbURL is "" (the SQLite default).
func clusterOn(broker, secret, dbURL string) func(*config.Config) {
	return func(c *config.Config) {
		c.Cluster.Broker, c.Cluster.Secret = broker, secret
		if dbURL != "" {
			c.Database.URL = dbURL
		}
	}
}

func TestValidateClusterMessage(t *testing.T) {
	c := config.Default()
	c.Cluster.Broker, c.Cluster.Secret = "postgres", testClusterSecret
	const want = "cluster.broker: postgres requires database.url (Postgres); SQLite cannot be shared between instances"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Fatalf("Validate() = %v, want %q", err, want)
	}
}

func TestValidateNeverPrintsSecrets(t *testing.T) {
	c := config.Default()
	c.Auth.APIKeys = []string{"shortkey1"}
	c.Database.URL = "mysql://user:pa55word@db/x"
	c.Cluster.ListenURL = "postgres://user:pa55word@db:bad/x"
	c.Cluster.Broker, c.Cluster.Secret = "nats", "clustersecret7"
	err := c.Validate()
	wantKeys(t, err, "database.url", "auth.api_keys[0]", "cluster.secret", "cluster.listen_url")
	for _, secret := range []string{"shortkey1", "pa55word", "clustersecret7"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks %q:\n%v", secret, err)
		}
	}
}

// TestCommitterCount: database.committers 0 is one committer on SQLite
// and config.PostgresCommitters on Postgres, leaving a connection of the
// pool for the reads; a value set is kept.
func TestCommitterCount(t *testing.T) {
	const pg = "postgres://postgres@127.0.0.1:5432/notifyd?sslmode=disable"
	for _, tc := range []struct {
		name                string
		url                 string
		committers, maxOpen int
		want                int
	}{
		{"sqlite default", "", 0, 20, 1},
		{"postgres default", pg, 0, 20, config.PostgresCommitters},
		{"postgres default, small pool", pg, 0, 2, 1},
		{"postgres default, one connection", pg, 0, 1, 1},
		{"set", pg, 3, 20, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := config.Default().Database
			d.URL, d.Committers, d.MaxOpenConns = tc.url, tc.committers, tc.maxOpen
			if got := d.CommitterCount(); got != tc.want {
				t.Fatalf("CommitterCount() = %d, want %d", got, tc.want)
			}
		})
	}
}
