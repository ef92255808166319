package config_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
)

// envSamples holds, for every key, a valid non-default value as an
// environment variable would carry it, and the Go value it must load as.
// TestEnvEveryKey fails when a key is added without a sample here.
func envSamples() map[string]envSample {
	return map[string]envSample{
		"NOTIFYD_HTTP_ADDR":                          {"127.0.0.1:9000", "127.0.0.1:9000"},
		"NOTIFYD_HTTP_PUBLIC_URL":                    {"https://notify.example.com/app/", "https://notify.example.com/app/"},
		"NOTIFYD_HTTP_TRUSTED_PROXIES":               {"10.0.0.1, 172.16.0.0/12", []string{"10.0.0.1", "172.16.0.0/12"}},
		"NOTIFYD_HTTP_CORS_ORIGINS":                  {"https://app.example.com", []string{"https://app.example.com"}},
		"NOTIFYD_HTTP_SHUTDOWN_TIMEOUT":              {"30s", config.Duration(30 * time.Second)},
		"NOTIFYD_HTTP_MAX_BODY_BYTES":                {"2048", int64(2048)},
		"NOTIFYD_HTTP_READ_HEADER_TIMEOUT":           {"2s", config.Duration(2 * time.Second)},
		"NOTIFYD_HTTP_READ_TIMEOUT":                  {"1m", config.Duration(time.Minute)},
		"NOTIFYD_HTTP_IDLE_TIMEOUT":                  {"2m", config.Duration(2 * time.Minute)},
		"NOTIFYD_HTTP_WRITE_TIMEOUT":                 {"45s", config.Duration(45 * time.Second)},
		"NOTIFYD_WS_ADDR":                            {":9001", ":9001"},
		"NOTIFYD_WS_PUBLIC_URL":                      {"wss://notify.example.com/ws", "wss://notify.example.com/ws"},
		"NOTIFYD_WS_ALLOWED_ORIGINS":                 {"https://A.example.com,https://b.example.com:8443", []string{"https://a.example.com", "https://b.example.com:8443"}},
		"NOTIFYD_WS_HANDSHAKE_TIMEOUT":               {"2s", config.Duration(2 * time.Second)},
		"NOTIFYD_WS_AUTH_TIMEOUT":                    {"3s", config.Duration(3 * time.Second)},
		"NOTIFYD_WS_MAX_MESSAGE_BYTES":               {"8192", int64(8192)},
		"NOTIFYD_WS_MAX_REPLAY":                      {"0", 0},
		"NOTIFYD_WS_PING_INTERVAL":                   {"5s", config.Duration(5 * time.Second)},
		"NOTIFYD_WS_PONG_TIMEOUT":                    {"2s", config.Duration(2 * time.Second)},
		"NOTIFYD_WS_WRITE_TIMEOUT":                   {"1s", config.Duration(time.Second)},
		"NOTIFYD_WS_SEND_QUEUE":                      {"1024", 1024},
		"NOTIFYD_WS_MAX_CONNECTIONS_PER_USER":        {"4", 4},
		"NOTIFYD_WS_MAX_UNAUTHENTICATED_PER_ADDRESS": {"8", 8},
		"NOTIFYD_WS_MAX_UNAUTHENTICATED":             {"100", 100},
		"NOTIFYD_DATABASE_URL":                       {"postgres://u:p@db:5432/notifyd", "postgres://u:p@db:5432/notifyd"},
		"NOTIFYD_DATABASE_SQLITE_PATH":               {"/data/n.db", "/data/n.db"},
		"NOTIFYD_DATABASE_MAX_OPEN_CONNS":            {"5", 5},
		"NOTIFYD_DATABASE_QUERY_TIMEOUT":             {"250ms", config.Duration(250 * time.Millisecond)},
		"NOTIFYD_DATABASE_BATCH_MAX_ROWS":            {"64", 64},
		"NOTIFYD_DATABASE_BATCH_MAX_WAIT":            {"500us", config.Duration(500 * time.Microsecond)},
		"NOTIFYD_DATABASE_COMMITTERS":                {"3", 3},
		"NOTIFYD_AUTH_API_KEYS":                      {testKey1 + "," + testKey2, []string{testKey1, testKey2}},
		"NOTIFYD_AUTH_ALLOW_SIGNUP":                  {"false", false},
		"NOTIFYD_AUTH_COOKIE_SECURE":                 {"true", true},
		"NOTIFYD_AUTH_SESSION_TTL":                   {"24h", config.Duration(24 * time.Hour)},
		"NOTIFYD_AUTH_LOGIN_PER_MINUTE_IP":           {"100", 100},
		"NOTIFYD_AUTH_LOGIN_PER_MINUTE_USER":         {"1", 1},
		"NOTIFYD_AUTH_LOGIN_PER_MINUTE":              {"60", 60},
		"NOTIFYD_AUTH_HASH_CONCURRENCY":              {"4", 4},
		"NOTIFYD_AUTH_HASH_QUEUE":                    {"4", 4},
		"NOTIFYD_AUTH_MAX_SESSIONS_PER_USER":         {"3", 3},
		"NOTIFYD_LOG_LEVEL":                          {"debug", "debug"},
		"NOTIFYD_LOG_FORMAT":                         {"json", "json"},
		"NOTIFYD_CLUSTER_BROKER":                     {"postgres", "postgres"},
		"NOTIFYD_CLUSTER_SECRET":                     {"3f9c2b7e1a5d4c8f9e0b6a2d7c1f4e8b", "3f9c2b7e1a5d4c8f9e0b6a2d7c1f4e8b"},
		"NOTIFYD_CLUSTER_LISTEN_URL":                 {"postgresql://u:p@db-direct/notifyd", "postgresql://u:p@db-direct/notifyd"},
		"NOTIFYD_CLUSTER_GAP_WAIT":                   {"250ms", config.Duration(250 * time.Millisecond)},
		"NOTIFYD_CLUSTER_AUDIT_INTERVAL":             {"3s", config.Duration(3 * time.Second)},
		"NOTIFYD_CLUSTER_SESSION_AUDIT_INTERVAL":     {"30s", config.Duration(30 * time.Second)},
		"NOTIFYD_CLUSTER_MIN_BACKOFF":                {"50ms", config.Duration(50 * time.Millisecond)},
		"NOTIFYD_CLUSTER_MAX_BACKOFF":                {"10s", config.Duration(10 * time.Second)},
		"NOTIFYD_CLUSTER_IDLE_CHECK":                 {"20s", config.Duration(20 * time.Second)},
		"NOTIFYD_CLUSTER_NATS_RECONNECT_WAIT":        {"2s", config.Duration(2 * time.Second)},
		"NOTIFYD_CLUSTER_NATS_MAX_MESSAGE_BYTES":     {"8388608", 8 << 20},
		"NOTIFYD_CLUSTER_NATS_QUEUE":                 {"1024", 1024},
		"NOTIFYD_CLUSTER_MAX_LISTENER_LAG":           {"1s", config.Duration(time.Second)},
		"NOTIFYD_CLUSTER_NATS_URL":                   {"tls://n1:4222,tls://n2:4222", "tls://n1:4222,tls://n2:4222"},
		"NOTIFYD_CLUSTER_NATS_USER":                  {"notifyd", "notifyd"},
		"NOTIFYD_CLUSTER_NATS_PASSWORD":              {"nats-pass", "nats-pass"},
		"NOTIFYD_CLUSTER_NATS_TLS_CA_FILE":           {"/tls/ca.pem", "/tls/ca.pem"},
		"NOTIFYD_CLUSTER_NATS_TLS_CERT_FILE":         {"/tls/client.pem", "/tls/client.pem"},
		"NOTIFYD_CLUSTER_NATS_TLS_KEY_FILE":          {"/tls/client-key.pem", "/tls/client-key.pem"},
		"NOTIFYD_CLUSTER_NATS_SUBJECT_PREFIX":        {"acme.notifyd", "acme.notifyd"},
		"NOTIFYD_RETENTION_READ_AFTER":               {"0s", config.Duration(0)},
		"NOTIFYD_RETENTION_UNREAD_AFTER":             {"8760h", config.Duration(8760 * time.Hour)},
		"NOTIFYD_RETENTION_BATCH_SIZE":               {"200", 200},
		"NOTIFYD_RETENTION_BATCH_PAUSE":              {"0s", config.Duration(0)},
		"NOTIFYD_RETENTION_INTERVAL":                 {"10m", config.Duration(10 * time.Minute)},
		"NOTIFYD_DEMO_TASKS":                         {"false", false},
		"NOTIFYD_DEMO_TASKS_PER_MINUTE":              {"3", 3},
		"NOTIFYD_AUTH_JWT_JWKS_MAX_WAIT":             {"500ms", config.Duration(500 * time.Millisecond)},
		"NOTIFYD_AUTH_JWT_HMAC_SECRETS":              {"0123456789abcdef0123456789abcdef", []string{"0123456789abcdef0123456789abcdef"}},
		"NOTIFYD_AUTH_JWT_PUBLIC_KEYS":               {"/keys/a.pem,/keys/b.pem", []string{"/keys/a.pem", "/keys/b.pem"}},
		"NOTIFYD_AUTH_JWT_JWKS_URL":                  {"https://id.example/.well-known/jwks.json", "https://id.example/.well-known/jwks.json"},
		"NOTIFYD_AUTH_JWT_JWKS_MIN_REFRESH":          {"1m", config.Duration(time.Minute)},
		"NOTIFYD_AUTH_JWT_ISSUER":                    {"https://app.example", "https://app.example"},
		"NOTIFYD_AUTH_JWT_AUDIENCE":                  {"notifyd", "notifyd"},
		"NOTIFYD_AUTH_JWT_LEEWAY":                    {"5s", config.Duration(5 * time.Second)},
		"NOTIFYD_PUBLISHER_IDEMPOTENCY_TTL":          {"2h", config.Duration(2 * time.Hour)},
		"NOTIFYD_METRICS_ADDR":                       {"127.0.0.1:9999", "127.0.0.1:9999"},
		"NOTIFYD_METRICS_PPROF":                      {"true", true},
		"NOTIFYD_RUNTIME_GC_PERCENT":                 {"400", 400},
		"NOTIFYD_RUNTIME_GC_MIN_HEAP_MIB":            {"512", int64(512)},
		"NOTIFYD_RUNTIME_MEMORY_LIMIT_MIB":           {"2048", int64(2048)},
	}
}

// exclusiveEnvSamples are keys that cannot be set together with the
// samples above (one NATS credential at a time): TestEnvEveryKey loads
// each of them alone.
func exclusiveEnvSamples() map[string]envSample {
	return map[string]envSample{
		"NOTIFYD_CLUSTER_NATS_CREDS_FILE":     {"/nats/notifyd.creds", "/nats/notifyd.creds"},
		"NOTIFYD_CLUSTER_NATS_NKEY_SEED_FILE": {"/nats/notifyd.nk", "/nats/notifyd.nk"},
		"NOTIFYD_CLUSTER_NATS_TOKEN":          {"nats-token", "nats-token"},
	}
}

type envSample struct {
	env  string // as set in the environment
	want any    // the loaded field value
}

// tomlKey is one key of Config found from its toml tags, independently of
// the package's own walk.
type tomlKey struct {
	env   string
	field func(*config.Config) reflect.Value
}

func tomlKeys(tb testing.TB) []tomlKey {
	tb.Helper()
	return appendTOMLKeys(tb, nil, "NOTIFYD", reflect.TypeFor[config.Config](), nil)
}

// appendTOMLKeys appends the keys of struct type t, whose variable prefix
// is prefix and whose place in Config is the field index path, descending
// into nested tables (structs other than config.Duration).
func appendTOMLKeys(tb testing.TB, keys []tomlKey, prefix string, t reflect.Type, path []int) []tomlKey {
	tb.Helper()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("toml")
		if name == "" {
			tb.Fatalf("field %s has no toml tag", f.Name)
		}
		env := prefix + "_" + strings.ToUpper(name)
		at := append(slices.Clone(path), i)
		if f.Type.Kind() == reflect.Struct {
			keys = appendTOMLKeys(tb, keys, env, f.Type, at)
			continue
		}
		keys = append(keys, tomlKey{
			env:   env,
			field: func(c *config.Config) reflect.Value { return reflect.ValueOf(c).Elem().FieldByIndex(at) },
		})
	}
	return keys
}

func TestEnvEveryKey(t *testing.T) {
	samples, exclusive := envSamples(), exclusiveEnvSamples()
	all := map[string]string{}
	for _, k := range tomlKeys(t) {
		if _, ok := exclusive[k.env]; ok {
			continue
		}
		s, ok := samples[k.env]
		if !ok {
			t.Fatalf("no sample for %s: add one to envSamples", k.env)
		}
		all[k.env] = s.env
	}
	if len(all)+len(exclusive) != len(tomlKeys(t)) || len(all) != len(samples) {
		t.Fatalf("envSamples has %d+%d entries, Config has %d keys", len(samples), len(exclusive), len(tomlKeys(t)))
	}
	t.Chdir(t.TempDir())
	def := config.Default()
	got, err := config.Load("", false, env(all))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range tomlKeys(t) {
		t.Run(k.env, func(t *testing.T) {
			want, loaded := samples[k.env].want, got
			if s, ok := exclusive[k.env]; ok {
				c, err := config.Load("", false, env(map[string]string{k.env: s.env}))
				if err != nil {
					t.Fatal(err)
				}
				want, loaded = s.want, c
			}
			if v := k.field(&loaded).Interface(); !reflect.DeepEqual(v, want) {
				t.Errorf("%s=%q loaded as %#v, want %#v", k.env, all[k.env], v, want)
			}
			if reflect.DeepEqual(k.field(&def).Interface(), want) {
				t.Errorf("sample for %s equals the default: the test would not see the override", k.env)
			}
		})
	}
}

func TestEnvLists(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want []string
	}{
		{"one", testKey1, []string{testKey1}},
		{"two", testKey1 + "," + testKey2, []string{testKey1, testKey2}},
		{"blanks trimmed", " " + testKey1 + " ,\t" + testKey2 + " ", []string{testKey1, testKey2}},
		{"empty items dropped", "," + testKey1 + ",,", []string{testKey1}},
		{"only commas is empty", " , ,", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Load(writeFile(t, ""), true, env(map[string]string{"NOTIFYD_AUTH_API_KEYS": tt.env}))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Auth.APIKeys, tt.want) {
				t.Errorf("api_keys = %q, want %q", got.Auth.APIKeys, tt.want)
			}
		})
	}
}

func TestEnvBadValues(t *testing.T) {
	tests := []struct {
		env, value, key, wantText string
	}{
		{"NOTIFYD_WS_SEND_QUEUE", "lots", "ws.send_queue", `NOTIFYD_WS_SEND_QUEUE: ws.send_queue: invalid value; expected an integer, got "lots"`},
		{"NOTIFYD_WS_MAX_REPLAY", "99999999999999999999", "ws.max_replay", "an integer"},
		{"NOTIFYD_AUTH_ALLOW_SIGNUP", "yes please", "auth.allow_signup", "true or false"},
		{"NOTIFYD_HTTP_SHUTDOWN_TIMEOUT", "10", "http.shutdown_timeout", "duration"},
		{"NOTIFYD_HTTP_MAX_BODY_BYTES", "1.5", "http.max_body_bytes", "an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			_, err := config.Load(writeFile(t, ""), true, env(map[string]string{tt.env: tt.value}))
			wantKeys(t, err, tt.key)
			if ke := keyErrors(err)[0]; ke.Source != tt.env {
				t.Errorf("source = %q, want %q", ke.Source, tt.env)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

// TestEnvNestedTable: a key of a nested table ([auth.jwt]) has its variable
// (NOTIFYD_AUTH_JWT_LEEWAY), and a duration there is checked like any other.
func TestEnvNestedTable(t *testing.T) {
	vars := map[string]string{"NOTIFYD_AUTH_JWT_LEEWAY": "45s", "NOTIFYD_PUBLISHER_IDEMPOTENCY_TTL": "1h"}
	c, err := config.Load("", false, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.JWT.Leeway.D() != 45*time.Second || c.Publisher.IdempotencyTTL.D() != time.Hour {
		t.Fatalf("leeway %v, idempotency ttl %v", c.Auth.JWT.Leeway.D(), c.Publisher.IdempotencyTTL.D())
	}
}

// TestEnvUnknownVariable: a misspelled NOTIFYD_* variable stops start-up
// naming it, like a misspelled file key, while the project's own test and
// tool variables and other programs' variables pass.
func TestEnvUnknownVariable(t *testing.T) {
	tests := []struct {
		name     string
		vars     map[string]string
		wantKeys []string
		wantText string
	}{
		{"typo", map[string]string{"NOTIFYD_HTTP_ADRR": ":9000"}, []string{"NOTIFYD_HTTP_ADRR"},
			"environment: NOTIFYD_HTTP_ADRR: unknown variable: did you mean NOTIFYD_HTTP_ADDR?"},
		{"no near key", map[string]string{"NOTIFYD_COLOUR": "blue"}, []string{"NOTIFYD_COLOUR"},
			"NOTIFYD_COLOUR: unknown variable: no configuration key has this name"},
		{"empty counts as unset", map[string]string{"NOTIFYD_HTTP_ADRR": ""}, nil, ""},
		{"test and tool variables", map[string]string{
			"NOTIFYD_TEST_DATABASE_URL": "postgres://x", "NOTIFYD_TEST_NATS_URL": "nats://x", "NOTIFYD_TEST_CHROMIUM": "/usr/bin/chromium",
			"NOTIFYD_REQUIRE_BROWSER": "1", "NOTIFYD_SCREENSHOTS": "/tmp", "NOTIFYD_PPROF_ADDR": ":6060",
			"NOTIFYD_MEMPROFILERATE": "1", "NOTIFYD_JWT_SECRET": "x", "NOTIFYD_KEY": "x",
		}, nil, ""},
		{"other programs", map[string]string{"HOME": "/root", "NOTIFYBENCH_KEY": "x", "notifyd_http_addr": "x"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, ""), true, env(tt.vars))
			wantKeys(t, err, tt.wantKeys...)
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}
