package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
)

func TestLoadDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no ./config.toml here
	got, err := config.Load("", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, defaults()) {
		t.Fatalf("Load with nothing set = %+v, want %+v", got, defaults())
	}
	if err := config.Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	d := config.Default()
	// The documented defaults of issue 2.
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"http.addr", d.HTTP.Addr, ":8000"},
		{"ws.addr", d.WS.Addr, ":8001"},
		{"ws.public_url", d.WS.PublicURL, "ws://localhost:8001/ws"},
		{"http.shutdown_timeout", d.HTTP.ShutdownTimeout.D(), 10 * time.Second},
		{"ws.send_queue", d.WS.SendQueue, 256},
		{"ws.allowed_origins after Load", got.WS.AllowedOrigins, []string{"http://localhost:8000"}},
		{"database.sqlite_path", d.Database.SQLitePath, "notifyd.db"},
		{"auth.session_ttl", d.Auth.SessionTTL.D(), 720 * time.Hour},
		{"log.format", d.Log.Format, "text"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadFile(t *testing.T) {
	path := writeFile(t, `
[http]
addr = "127.0.0.1:9000"
trusted_proxies = ["10.0.0.0/8", "192.168.1.1"]

[ws]
send_queue = 32
ping_interval = "1m30s"

[auth]
allow_signup = false
`)
	got, err := config.Load(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.HTTP.Addr = "127.0.0.1:9000"
	want.HTTP.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1"}
	want.WS.SendQueue = 32
	want.WS.PingInterval = config.Duration(90 * time.Second)
	want.Auth.AllowSignup = false
	want = want.Normalized()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestLoadEnvBeatsFile(t *testing.T) {
	path := writeFile(t, "[http]\naddr = \":9000\"\n[ws]\nsend_queue = 32\n")
	got, err := config.Load(path, true, env(map[string]string{
		"NOTIFYD_HTTP_ADDR":     ":9100",
		"NOTIFYD_LOG_FORMAT":    "json",
		"NOTIFYD_WS_SEND_QUEUE": "", // empty is unset: the file's value stays
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.HTTP.Addr != ":9100" {
		t.Errorf("http.addr = %q, want the environment's :9100", got.HTTP.Addr)
	}
	if got.WS.SendQueue != 32 {
		t.Errorf("ws.send_queue = %d, want the file's 32", got.WS.SendQueue)
	}
	if got.Log.Format != "json" {
		t.Errorf("log.format = %q, want json", got.Log.Format)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantKeys []string
		wantText string
	}{
		{"unknown key", "[http]\nadress = \":9000\"\n", []string{"http.adress"}, `config.toml:2: http.adress: unknown key`},
		{"every unknown key", "[http]\nadress = \"x\"\n[ws]\nsendqueue = 1\n", []string{"http.adress", "ws.sendqueue"}, "config.toml:4: ws.sendqueue: unknown key"},
		{"unknown section", "[htp]\naddr = \":1\"\n", []string{"htp"}, "unknown key"},
		{"bad duration", "[http]\nshutdown_timeout = \"ten\"\n", []string{"http.shutdown_timeout"}, `invalid duration "ten"`},
		{"duration without unit", "[ws]\nauth_timeout = 10\n", []string{"ws.auth_timeout"}, "config.toml: ws.auth_timeout: must be a duration string with a unit"},
		{"wrong type", "[ws]\nsend_queue = \"many\"\n", []string{"ws.send_queue"}, "config.toml:2: ws.send_queue: must be an integer, got a string"},
		{"integer for a string", "[http]\n\naddr = 9000\n", []string{"http.addr"}, "config.toml:3: http.addr: must be a string, got an integer"},
		{"string for a bool", "[auth]\nallow_signup = \"yes\"\n", []string{"auth.allow_signup"}, "auth.allow_signup: must be true or false, got a string"},
		{"string for a list", "[http]\ncors_origins = \"https://a.example\"\n", []string{"http.cors_origins"}, "http.cors_origins: must be a list of strings, got a string"},
		{"table for a string", "[http]\naddr = {port = 1}\n", []string{"http.addr"}, "http.addr: must be a string, got an inline table"},
		{"nested table", "[auth.jwt]\nissuer = 3\n", []string{"auth.jwt.issuer"}, "auth.jwt.issuer: must be a string, got an integer"},
		{"syntax", "[http\n", []string{"syntax"}, "config.toml:1"},
		{"valid file, invalid value", "[ws]\nsend_queue = 0\n", []string{"ws.send_queue"}, "ws.send_queue: must be from 1 to 65536, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tt.content), true, nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			wantKeys(t, err, tt.wantKeys...)
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

func TestLoadSecretsNeverInErrors(t *testing.T) {
	const secret = "hunter2-very-secret"
	tests := []struct {
		name    string
		content string
		env     map[string]string
	}{
		{"api key of wrong type in file", "[auth]\napi_keys = \"" + secret + "\"\n", nil},
		{"database url of wrong type in file", "[database]\nurl = [\"" + secret + "\"]\n", nil},
		{"short api key", "", map[string]string{"NOTIFYD_AUTH_API_KEYS": "abcdefghijklmnopqrstuvwxyz," + secret[:8]}},
		{"api key with space", "", map[string]string{"NOTIFYD_AUTH_API_KEYS": secret + " " + secret}},
		{"mysql url", "", map[string]string{"NOTIFYD_DATABASE_URL": "mysql://u:" + secret + "@h/db"}},
		{"unparseable url", "", map[string]string{"NOTIFYD_DATABASE_URL": "postgres://u:" + secret + "@h:port/db"}},
		{"listen url", "", map[string]string{"NOTIFYD_CLUSTER_LISTEN_URL": "http://u:" + secret + "@h/db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tt.content), true, env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:8]) {
				t.Fatalf("error leaks the secret: %v", err)
			}
			if len(keyErrors(err)) == 0 {
				t.Fatalf("error names no key: %v", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)

	_, err := config.Load(filepath.Join(dir, "nope.toml"), true, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("explicit missing file: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := config.Load(config.DefaultPath, false, nil); err != nil {
		t.Errorf("implicit missing ./config.toml: err = %v, want nil (skipped)", err)
	}
	if _, err := config.Load("", true, nil); err == nil {
		t.Error("explicit empty path: want an error")
	}

	// The implicit ./config.toml is read when present.
	if err := os.WriteFile(config.DefaultPath, []byte("[ws]\nsend_queue = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load("", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.WS.SendQueue != 7 {
		t.Errorf("./config.toml not read: ws.send_queue = %d, want 7", got.WS.SendQueue)
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	_, err := config.Load(writeFile(t, ""), true, env(map[string]string{
		"NOTIFYD_WS_SEND_QUEUE": "0",
		"NOTIFYD_LOG_LEVEL":     "loud",
		"NOTIFYD_HTTP_ADDR":     "nope",
	}))
	got := errorKeys(err)
	slices.Sort(got)
	want := []string{"http.addr", "log.level", "ws.send_queue"}
	if !slices.Equal(got, want) {
		t.Fatalf("error keys = %q, want %q", got, want)
	}
}

// TestNestedDurationMustBeString: a bare number for a duration in a nested
// table is refused like one in a section.
func TestNestedDurationMustBeString(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte("[auth.jwt]\nleeway = 30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path, true, nil)
	if err == nil || !strings.Contains(err.Error(), "auth.jwt.leeway") {
		t.Fatalf("err = %v, want one naming auth.jwt.leeway", err)
	}
}

// TestLoadClusterEnabledRemoved: the cluster.enabled of earlier versions
// is refused, in the file and in the environment, with a hint naming
// cluster.broker, not a bare "unknown key".
func TestLoadClusterEnabledRemoved(t *testing.T) {
	for name, tc := range map[string]struct {
		content string
		env     map[string]string
	}{
		"file":        {"[cluster]\nenabled = true\n", nil},
		"environment": {"", map[string]string{"NOTIFYD_CLUSTER_ENABLED": "true"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tc.content), true, env(tc.env))
			if err == nil || !strings.Contains(err.Error(), "cluster.broker") {
				t.Fatalf("Load = %v, want an error naming cluster.broker", err)
			}
		})
	}
}
