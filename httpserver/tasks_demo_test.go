package httpserver

import (
	"context"
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// TestTaskDemoOff: each task stores a notification, kept forever, so a
// deployment turns the demo off (demo.tasks = false): the route answers
// 404, stores nothing, and /api/config tells the page to hide the form.
func TestTaskDemoOff(t *testing.T) {
	e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Demo.Tasks = false }})
	alice, secret := e.api.User(t, "alice")
	e.do(t, req{method: "POST", path: "/api/tasks", secret: secret, body: `{"name":"x","duration_ms":0}`}).
		WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
	var cfg struct {
		WSURL          string   `json:"ws_url"`
		Tasks          bool     `json:"tasks"`
		AllowedOrigins []string `json:"allowed_origins"`
	}
	e.do(t, req{method: "GET", path: "/api/config"}).Want(t, http.StatusOK).Decode(t, &cfg)
	if cfg.Tasks {
		t.Fatal("/api/config says tasks are on")
	}
	e.Tasks.Close() // no task left running that could still store
	n, err := e.Store.UnreadCount(context.Background(), alice.ID)
	if err != nil || n != 0 {
		t.Fatalf("unread = %d, %v: want nothing stored with the demo off", n, err)
	}
}

// TestTaskDemoRateLimit: with the demo on, one user may start only
// demo.tasks_per_minute tasks a minute (they used to be able to store
// about 100 notifications a second); other users keep theirs.
func TestTaskDemoRateLimit(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) { c.Demo.TasksPerMinute = 2 }})
	_, alice := e.api.User(t, "alice")
	_, bob := e.api.User(t, "bob")
	start := func(secret string) resp {
		return e.do(t, req{method: "POST", path: "/api/tasks", secret: secret, body: `{"name":"x","duration_ms":0}`})
	}
	start(alice).Want(t, http.StatusAccepted)
	start(alice).Want(t, http.StatusAccepted)
	r := start(alice)
	r.WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	if got := r.Header.Get("Retry-After"); got != "30" {
		t.Fatalf("Retry-After = %q, want 30", got)
	}
	start(bob).Want(t, http.StatusAccepted)
}
