package httpserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// TestOriginRefusalExplained: a cookie request from a page at another
// address than http.public_url (http://127.0.0.1:8000 for
// http://localhost:8000) gets a 403 that names the origin and the key to
// set, and a WARN log with the origin and the allowed list; /api/config
// tells the page which origins are allowed, so it can say so itself.
func TestOriginRefusalExplained(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	got := e.do(t, req{method: "POST", path: "/api/tasks", cookie: secret, origin: "http://127.0.0.1:8000", body: `{"name":"x"}`}).
		WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
	if want := "origin http://127.0.0.1:8000 not allowed; set http.public_url"; !strings.HasPrefix(got.Error.Message, want) {
		t.Errorf("message = %q, want it to start with %q", got.Error.Message, want)
	}
	var rec map[string]any
	for _, r := range e.Logs.Records(t) {
		if r["msg"] == "cookie request refused: origin not allowed" {
			rec = r
		}
	}
	if rec == nil || rec["level"] != "WARN" || rec["origin"] != "http://127.0.0.1:8000" ||
		fmt.Sprint(rec["allowed_origins"]) != "["+testOrigin+"]" {
		t.Fatalf("log record = %v, want WARN with the origin and [%s]\n%s", rec, testOrigin, e.Logs.String())
	}

	var cfg struct {
		WSURL          string   `json:"ws_url"`
		Tasks          bool     `json:"tasks"`
		AllowedOrigins []string `json:"allowed_origins"`
	}
	e.do(t, req{method: "GET", path: "/api/config"}).Want(t, http.StatusOK).Decode(t, &cfg)
	if len(cfg.AllowedOrigins) != 1 || cfg.AllowedOrigins[0] != testOrigin {
		t.Fatalf("allowed_origins = %q, want [%s]", cfg.AllowedOrigins, testOrigin)
	}
}

// TestLoginOriginRefusalExplained: a login from a page at another address
// than http.public_url is refused with the same explanation and WARN log.
func TestLoginOriginRefusalExplained(t *testing.T) {
	e := newEnv(t)
	e.api.Signup(t, "alice")
	got := e.do(t, req{method: "POST", path: "/api/sessions", origin: "http://127.0.0.1:8000",
		body: map[string]string{"username": "alice", "password": testPass}}).
		WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
	if want := "origin http://127.0.0.1:8000 not allowed; set http.public_url"; !strings.HasPrefix(got.Error.Message, want) {
		t.Errorf("message = %q, want it to start with %q", got.Error.Message, want)
	}
	if !strings.Contains(e.Logs.String(), `"msg":"cookie request refused: origin not allowed"`) {
		t.Errorf("no WARN log of the refused login:\n%s", e.Logs.String())
	}
}
