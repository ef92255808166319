package httpserver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

func TestTasks(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice")
	sock := e.subscribe(t, alice.ID, 1)

	var out struct {
		Task notify.Task `json:"task"`
	}
	e.do(t, req{method: "POST", path: "/api/tasks", secret: secret, body: `{"name":"build","duration_ms":0}`}).
		Want(t, http.StatusAccepted).Decode(t, &out)
	if out.Task.ID == "" || out.Task.Name != "build" {
		t.Fatalf("task = %+v", out.Task)
	}
	// Ten progress events, then the stored notification. The timeout only
	// bounds a broken run; the order is what is checked.
	for i := 1; i <= 10; i++ {
		f := frame(t, sock, 10*time.Second)
		ev, _ := f["event"].(map[string]any)
		data, _ := ev["data"].(map[string]any)
		if f["type"] != "event" || ev["type"] != "task_progress" || data["task_id"] != out.Task.ID {
			t.Fatalf("frame %d = %v", i, f)
		}
	}
	f := frame(t, sock, 10*time.Second)
	n, _ := f["notification"].(map[string]any)
	if f["type"] != "notification" || n["title"] != "Task finished" || n["style"] != "info" {
		t.Fatalf("final frame = %v", f)
	}

	t.Run("failing task", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/tasks", secret: secret, body: `{"name":"deploy","duration_ms":0,"fail":true}`}).
			Want(t, http.StatusAccepted)
		// It stops partway: its last progress is below 1 and says failed,
		// so the page never shows 100 % before "Task failed".
		var last map[string]any
		for {
			f := frame(t, sock, 10*time.Second)
			if f["type"] != "event" {
				t.Fatalf("frame = %v, want progress events then the notification", f)
			}
			ev, _ := f["event"].(map[string]any)
			last, _ = ev["data"].(map[string]any)
			if p, _ := last["progress"].(float64); p >= 1 {
				t.Fatalf("a failing task reached progress %v", p)
			}
			if last["failed"] == true {
				break
			}
		}
		if p, _ := last["progress"].(float64); p != 0.6 {
			t.Errorf("failed at progress %v, want 0.6", p)
		}
		f := frame(t, sock, 10*time.Second)
		if n, _ := f["notification"].(map[string]any); n["title"] != "Task failed" || n["style"] != "error" {
			t.Fatalf("final frame = %v", f)
		}
	})

	bad := []struct{ name, body, field string }{
		{"no name", `{"duration_ms":0}`, "name"},
		{"empty name", `{"name":""}`, "name"},
		{"101 character name", `{"name":"` + strings.Repeat("ü", 101) + `"}`, "name"},
		{"NUL in name", `{"name":"a\u0000"}`, "name"},
		{"negative duration", `{"name":"x","duration_ms":-1}`, "duration_ms"},
		{"duration over a minute", `{"name":"x","duration_ms":60001}`, "duration_ms"},
		{"null duration", `{"name":"x","duration_ms":null}`, "duration_ms"},
		{"fractional duration", `{"name":"x","duration_ms":1.5}`, "duration_ms"},
		{"string duration", `{"name":"x","duration_ms":"5"}`, "duration_ms"},
		{"huge duration", `{"name":"x","duration_ms":1e30}`, "duration_ms"},
		{"fail not a bool", `{"name":"x","fail":"yes"}`, "fail"},
		{"unknown field", `{"name":"x","steps":3}`, "steps"},
		{"empty body", ``, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/tasks", secret: secret, body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
	t.Run("needs a session", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/tasks", body: `{"name":"x"}`}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		e.do(t, req{method: "POST", path: "/api/tasks", apiKey: testAPIKey, body: `{"name":"x"}`}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	})
}

func TestTasksLimit(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	_, bobSecret := e.api.User(t, "bob")
	// Minute-long tasks stay running until the env's cleanup cancels them.
	for _, name := range []string{"a", "b", "c", "d"} {
		e.do(t, req{method: "POST", path: "/api/tasks", secret: secret, body: `{"name":"` + name + `","duration_ms":60000}`}).
			Want(t, http.StatusAccepted)
	}
	e.do(t, req{method: "POST", path: "/api/tasks", secret: secret, body: `{"name":"e","duration_ms":0}`}).
		WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	e.do(t, req{method: "POST", path: "/api/tasks", secret: bobSecret, body: `{"name":"e","duration_ms":60000}`}).
		Want(t, http.StatusAccepted)
}

func TestTaskDuration(t *testing.T) {
	cases := []struct {
		raw  string
		want time.Duration
		ok   bool
	}{
		{"", 5 * time.Second, true}, // absent: the default
		{"0", 0, true},
		{"60000", time.Minute, true},
		{"250", 250 * time.Millisecond, true},
		{"null", 0, false},
		{"-1", 0, false},
		{"60001", 0, false},
		{"1.5", 0, false},
		{`"5"`, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			d, err := taskDuration([]byte(tc.raw))
			if tc.ok != (err == nil) || d != tc.want {
				t.Fatalf("taskDuration(%s) = %s, %v; want %s ok=%v", tc.raw, d, err, tc.want, tc.ok)
			}
			if err != nil && notify.ErrorCode(err) != notify.EINVALID {
				t.Fatalf("code %s", notify.ErrorCode(err))
			}
		})
	}
}

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
