package httpserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestHealth(t *testing.T) {
	e := newEnv(t)
	var status struct {
		Status string `json:"status"`
	}
	e.do(t, req{method: "GET", path: "/healthz"}).Want(t, http.StatusOK).Decode(t, &status)
	if status.Status != "ok" {
		t.Fatalf("healthz = %+v", status)
	}
	e.do(t, req{method: "GET", path: "/readyz"}).Want(t, http.StatusOK).Decode(t, &status)
	if status.Status != "ok" {
		t.Fatalf("readyz = %+v", status)
	}
	var cfg struct {
		WSURL          string   `json:"ws_url"`
		Tasks          bool     `json:"tasks"`
		AllowedOrigins []string `json:"allowed_origins"`
	}
	e.do(t, req{method: "GET", path: "/api/config"}).Want(t, http.StatusOK).Decode(t, &cfg)
	if cfg.WSURL != testWSURL || !cfg.Tasks {
		t.Fatalf("config = %+v", cfg)
	}
}

// checkUnavailable checks that, with the database gone, every route that
// needs it answers 503 "unavailable" (not 500) while /healthz still
// answers.
func checkUnavailable(t *testing.T, e *env, secret string) {
	t.Helper()
	cases := []req{
		{method: "GET", path: "/readyz"},
		{method: "GET", path: "/api/me", secret: secret},
		{method: "GET", path: "/api/notifications", secret: secret},
		{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}},
		{method: "POST", path: "/api/users", body: map[string]string{"username": "zed", "password": testPass}},
		{method: "POST", path: "/api/publisher/users/alice/notifications", apiKey: testAPIKey, body: `{"title":"t"}`},
		{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey, body: `{"user_ids":["alice"],"title":"t"}`},
		{method: "PUT", path: "/api/publisher/users/zed", apiKey: testAPIKey},
	}
	for _, r := range cases {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			got := e.do(t, r).WantError(t, http.StatusServiceUnavailable, notify.EUNAVAILABLE, "")
			if strings.Contains(strings.ToLower(got.Error.Message), "sql") {
				t.Fatalf("driver detail leaked: %q", got.Error.Message)
			}
		})
	}
	e.do(t, req{method: "GET", path: "/healthz"}).Want(t, http.StatusOK)
	// The cause is in the log, at Error, with the request id.
	r := e.do(t, req{method: "GET", path: "/readyz"})
	id := r.Header.Get(requestIDHeader)
	found := false
	for _, rec := range e.Logs.Records(t) {
		if rec["msg"] == "request failed" && rec["request_id"] == id && rec["level"] == "ERROR" && rec["error"] != "" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no error log for request %s:\n%s", id, e.Logs.String())
	}
}

func TestStoreClosed(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	if err := e.Store.Close(); err != nil {
		t.Fatal(err)
	}
	checkUnavailable(t, e, secret)
}

func TestPostgresDown(t *testing.T) {
	if !storetest.Postgres(t) {
		t.Skip("Postgres only: set " + storetest.EnvDatabaseURL)
	}
	cfg := storetest.Config(t)
	p, viaProxy := storetest.ProxyURL(t, cfg.URL)
	cfg.URL = viaProxy
	e := newEnvWith(t, envOptions{store: storetest.OpenConfig(t, cfg)})
	_, secret := e.api.User(t, "alice")
	e.do(t, req{method: "GET", path: "/readyz"}).Want(t, http.StatusOK)
	p.Stop() // the database "goes down": connections drop, new ones are refused
	checkUnavailable(t, e, secret)
}
