package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/testkit"
)

// TestSeedStory is the seed's story end to end through run(): a user logs in,
// opens two tabs, a task finishes, both tabs get the notification; with no
// tab open the next one waits in /api/me.
func TestSeedStory(t *testing.T) {
	in := start(t, testEnv(t))
	_, secret := in.signup(t, "alice")

	tab1 := in.connect(t, secret)
	tab2 := in.connect(t, secret)

	var task struct {
		Task struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"task"`
	}
	if code := in.api(t, "POST", "/api/tasks", secret, map[string]any{"name": "render video", "duration_ms": 200}, &task); code != http.StatusAccepted {
		t.Fatalf("start task: %d", code)
	}
	for i, tab := range []*testkit.Socket{tab1, tab2} {
		ev := tab.NextOfType(t, "event")
		if ev.Event == nil || ev.Event.Type != "task_progress" {
			t.Errorf("tab %d: event %s", i+1, ev.Raw)
		}
		n := tab.NextOfType(t, "notification")
		if notif := n.Notification; notif.Title != "Task finished" || notif.Style != "info" || notif.Read {
			t.Errorf("tab %d: notification %+v", i+1, notif)
		}
		if n.UnreadCount == nil || *n.UnreadCount != 1 {
			t.Errorf("tab %d: unread_count in %s, want 1", i+1, n.Raw)
		}
	}

	// Close every tab, start a failing task, and find it waiting at login.
	tab1.Close()
	tab2.Close()
	if code := in.api(t, "POST", "/api/tasks", secret, map[string]any{"name": "import", "duration_ms": 50, "fail": true}, nil); code != http.StatusAccepted {
		t.Fatalf("start task: %d", code)
	}
	var me struct {
		UnreadCount   int64  `json:"unread_count"`
		WSURL         string `json:"ws_url"`
		Notifications []struct {
			Title string `json:"title"`
			Style string `json:"style"`
		} `json:"notifications"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code := in.api(t, "GET", "/api/me", secret, nil, &me); code != http.StatusOK {
			t.Fatalf("GET /api/me: %d", code)
		}
		if me.UnreadCount == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if me.UnreadCount != 2 || len(me.Notifications) != 2 {
		t.Fatalf("me = %+v, want 2 unread", me)
	}
	if me.Notifications[0].Title != "Task failed" || me.Notifications[0].Style != "error" {
		t.Errorf("newest = %+v, want the failed task first", me.Notifications[0])
	}
}

// TestShutdownClosesSocketsGoingAway checks that cancelling run() closes
// every socket with 1001 and returns nil (exit 0).
func TestShutdownClosesSocketsGoingAway(t *testing.T) {
	in := start(t, testEnv(t))
	_, secret := in.signup(t, "bob")
	c := in.connect(t, secret)
	stopped := make(chan error, 1)
	go func() { stopped <- in.stop(t) }()
	_, err := c.Read(t)
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Fatalf("close status = %v (err %v), want 1001", got, err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	if !strings.Contains(in.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no 'stopped' log line:\n%s", in.logs.String())
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantKey string
	}{
		{"bad send queue", map[string]string{"NOTIFYD_WS_SEND_QUEUE": "lots"}, "NOTIFYD_WS_SEND_QUEUE"},
		{"bad duration", map[string]string{"NOTIFYD_WS_AUTH_TIMEOUT": "10"}, "NOTIFYD_WS_AUTH_TIMEOUT"},
		{"bad log format", map[string]string{"NOTIFYD_LOG_FORMAT": "xml"}, "log.format"},
		{"misspelled variable", map[string]string{"NOTIFYD_HTTP_ADRR": ":9000"}, "NOTIFYD_HTTP_ADRR"},
		{"README placeholder key", map[string]string{"NOTIFYD_AUTH_API_KEYS": "change-me-to-a-long-random-key"}, "auth.api_keys[0]"},
		{"compose placeholder key", map[string]string{"NOTIFYD_AUTH_API_KEYS": "dev-only-insecure-publisher-key"}, "auth.api_keys[0]"},
		{"short key", map[string]string{"NOTIFYD_AUTH_API_KEYS": "0123456789abcdef0123456789"}, "auth.api_keys[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), []string{"-config", "/dev/null"}, environ(tt.env), &out, &out)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("run = %v, want a usage error (exit 2)", err)
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("error %q does not name %s", err, tt.wantKey)
			}
		})
	}
}

func TestRunFailsOnTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := testEnv(t)
	env["NOTIFYD_HTTP_ADDR"] = ln.Addr().String()
	var out strings.Builder
	err = run(context.Background(), []string{"-config", "/dev/null"}, environ(env), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "http.addr") {
		t.Fatalf("run = %v, want an http.addr error", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	env := testEnv(t)
	var out strings.Builder
	err := run(context.Background(), []string{"-config", "/dev/null", "migrate"}, environ(env), &out, &out)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "migrations applied") {
		t.Errorf("output %q lacks 'migrations applied'", out.String())
	}
}

func TestHealthcheckCommand(t *testing.T) {
	in := start(t, testEnv(t))
	check := func(addr string) error {
		env := map[string]string{"NOTIFYD_HTTP_ADDR": addr}
		var out strings.Builder
		return run(context.Background(), []string{"-config", "/dev/null", "healthcheck"}, environ(env), &out, &out)
	}
	if err := check(strings.TrimPrefix(in.HTTPURL, "http://")); err != nil {
		t.Fatalf("healthcheck of a running instance: %v", err)
	}
	in.stop(t)
	if err := check(strings.TrimPrefix(in.HTTPURL, "http://")); err == nil {
		t.Fatal("healthcheck of a stopped instance succeeded")
	}
}

// TestStartupWarnsWithoutAPIKey: with no publisher key, start-up says at
// WARN that the publisher API is disabled and how to enable it; with a key
// it says nothing of the kind.
func TestStartupWarnsWithoutAPIKey(t *testing.T) {
	env := testEnv(t)
	delete(env, "NOTIFYD_AUTH_API_KEYS")
	in := start(t, env)
	in.stop(t)
	if !strings.Contains(in.logs.String(), `"level":"WARN","msg":"publisher API disabled: no auth.api_keys configured`) {
		t.Errorf("no WARN about the disabled publisher API:\n%s", in.logs.String())
	}
	with := start(t, testEnv(t))
	with.stop(t)
	if strings.Contains(with.logs.String(), "publisher API disabled") {
		t.Errorf("warned although a key is set")
	}
}

// TestStartupLogHidesSecrets: the configuration is logged at start-up, and
// neither the publisher key nor a database password appears in it.
func TestStartupLogHidesSecrets(t *testing.T) {
	in := start(t, testEnv(t))
	in.stop(t)
	logs := in.logs.String()
	if !strings.Contains(logs, `"msg":"configuration"`) {
		t.Fatalf("no configuration log line:\n%s", logs)
	}
	if strings.Contains(logs, testAPIKey) {
		t.Fatalf("the publisher API key was logged:\n%s", logs)
	}
}

// A start that fails half way (here the JWT keys, read after the store is
// open) releases what it took: both ports can be listened on again at once.
func TestFailedStartReleasesPorts(t *testing.T) {
	addrs := make([]string, 2)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = ln.Addr().String()
		ln.Close()
	}
	env := testEnv(t)
	env["NOTIFYD_HTTP_ADDR"], env["NOTIFYD_WS_ADDR"] = addrs[0], addrs[1]
	env["NOTIFYD_AUTH_JWT_PUBLIC_KEYS"] = t.TempDir() + "/missing.pem"
	var out strings.Builder
	if err := run(context.Background(), []string{"-config", "/dev/null"}, environ(env), &out, &out); err == nil {
		t.Fatal("run with a missing key file returned nil")
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("port %s still taken after a failed start: %v", a, err)
		}
		ln.Close()
	}
}
