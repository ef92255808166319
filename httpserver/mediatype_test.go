package httpserver

import (
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// TestLoginCSRFTextPlainForm replays the attack: a foreign page's
// <form enctype="text/plain"> posts `{"username":"mallory",...,"x":"="}`
// (the browser adds the "=") to /api/sessions. It used to log the
// visitor's browser into the attacker's account.
func TestLoginCSRFTextPlainForm(t *testing.T) {
	e := newEnv(t)
	e.api.Signup(t, "mallory")
	formBody := `{"username":"mallory","password":"` + testPass + `","x":"="}`
	text := map[string]string{"Content-Type": "text/plain"}
	for name, r := range map[string]req{
		// An old browser without Origin on form posts: the body type stops it.
		"no Origin":                 {header: text},
		"foreign Origin":            {origin: "https://evil.example", header: text},
		"cross-site fetch metadata": {header: map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}},
	} {
		t.Run(name, func(t *testing.T) {
			r.method, r.path, r.body = "POST", "/api/sessions", formBody
			got := e.do(t, r)
			if got.Status != http.StatusUnsupportedMediaType && got.Status != http.StatusForbidden {
				t.Fatalf("status = %d, want 415 or 403; body %s", got.Status, got.Body)
			}
			if c := got.Header.Values("Set-Cookie"); len(c) != 0 {
				t.Fatalf("a session cookie was set: %q", c)
			}
		})
	}
	t.Run("no Origin is 415 with the JSON error shape", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/sessions", body: formBody, header: text}).
			WantError(t, http.StatusUnsupportedMediaType, notify.EMEDIATYPE, "Content-Type")
	})
	t.Run("foreign Origin on sign-up is 403", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/users", origin: "https://evil.example",
			body: map[string]string{"username": "victim", "password": testPass}}).
			WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
	})
	t.Run("the page's own origin logs in", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/sessions", origin: testOrigin,
			body: map[string]string{"username": "mallory", "password": testPass}}).Want(t, http.StatusCreated)
	})
}

// TestJSONContentTypeRequired: every route that reads a JSON body wants
// Content-Type: application/json (a charset=utf-8 parameter allowed),
// else 415; a route whose body is optional still works without a body and
// without a Content-Type.
func TestJSONContentTypeRequired(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice")
	e.Notify(t, u.ID, "hello")
	routes := []req{
		{method: "POST", path: "/api/users", body: `{"username":"bob","password":"` + testPass + `"}`},
		{method: "POST", path: "/api/sessions", body: `{"username":"alice","password":"` + testPass + `"}`},
		{method: "POST", path: "/api/tasks", secret: secret, body: `{"name":"x","duration_ms":0}`},
		{method: "POST", path: "/api/notifications/read-all", secret: secret, body: `{"up_to_id":1}`},
		{method: "PUT", path: "/api/publisher/users/carol", apiKey: testAPIKey, body: `{"name":"Carol"}`},
		{method: "POST", path: "/api/publisher/users/carol/notifications", apiKey: testAPIKey, body: `{"title":"t"}`},
		{method: "POST", path: "/api/publisher/users/carol/events", apiKey: testAPIKey, body: `{"type":"x","data":{}}`},
		{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey, body: `{"user_ids":["carol"],"title":"t"}`},
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/json; charset=latin1", "application/jsonp", ""} {
		for _, r := range routes {
			t.Run(ct+" "+r.path, func(t *testing.T) {
				r.header = map[string]string{"Content-Type": ct}
				e.do(t, r).WantError(t, http.StatusUnsupportedMediaType, notify.EMEDIATYPE, "Content-Type")
			})
		}
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"} {
		t.Run("accepted "+ct, func(t *testing.T) {
			r := e.do(t, req{method: "PUT", path: "/api/publisher/users/dave", apiKey: testAPIKey,
				body: `{"name":"Dave"}`, header: map[string]string{"Content-Type": ct}})
			if r.Status == http.StatusUnsupportedMediaType {
				t.Fatalf("refused: %s", r.Body)
			}
		})
	}
	t.Run("optional body absent, no Content-Type", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: secret}).Want(t, http.StatusOK)
		e.do(t, req{method: "PUT", path: "/api/publisher/users/erin", apiKey: testAPIKey}).Want(t, http.StatusCreated)
	})
}
