package httpserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// sessionCookieOf returns the notifyd_session cookie a response sets.
func sessionCookieOf(tb testing.TB, r resp) *http.Cookie {
	tb.Helper()
	return cookieNamed(tb, r, sessionCookie)
}

// cookieNamed returns the cookie called name that a response sets.
func cookieNamed(tb testing.TB, r resp, name string) *http.Cookie {
	tb.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	tb.Fatalf("no %s cookie in %v", name, r.Header.Values("Set-Cookie"))
	return nil
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	alice := e.api.Signup(t, "Alice")

	t.Run("created with cookie", func(t *testing.T) {
		r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}}).
			Want(t, http.StatusCreated)
		var out struct {
			Secret string      `json:"secret"`
			User   notify.User `json:"user"`
		}
		r.Decode(t, &out)
		if out.User.ID != alice.ID || len(out.Secret) != 43 {
			t.Fatalf("login = %+v", out)
		}
		ck := sessionCookieOf(t, r)
		if ck.Value != out.Secret || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" ||
			ck.Secure || ck.MaxAge != int(time.Hour/time.Second) {
			t.Fatalf("cookie = %+v (raw %q)", ck, r.Header.Get("Set-Cookie"))
		}
		e.do(t, req{method: "GET", path: "/api/me", secret: out.Secret}).Want(t, http.StatusOK)
		e.do(t, req{method: "GET", path: "/api/me", cookie: ck.Value}).Want(t, http.StatusOK)
		if strings.Contains(e.Logs.String(), out.Secret) {
			t.Fatal("the secret reached the logs")
		}
	})

	t.Run("wrong password and unknown user look the same", func(t *testing.T) {
		wrong := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": "wrong password"}}).
			WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		unknown := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "nobody", "password": "wrong password"}}).
			WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		if wrong.Error.Message != unknown.Error.Message {
			t.Fatalf("messages differ: %q vs %q", wrong.Error.Message, unknown.Error.Message)
		}
	})

	bad := []struct{ name, body, field string }{
		{"no username", `{"password":"x"}`, "username"},
		{"no password", `{"username":"alice"}`, "password"},
		{"unknown field", `{"username":"alice","password":"x","remember":true}`, "remember"},
		{"password not a string", `{"username":"alice","password":12345678}`, "password"},
		{"empty body", ``, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/sessions", body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}

	t.Run("an external user cannot log in by its external id", func(t *testing.T) {
		e.external(t, "synced")
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "synced", "password": ""}}).
			WantError(t, http.StatusBadRequest, notify.EINVALID, "password")
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "synced", "password": "anything at all"}}).
			WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	})
}

func TestCookieSecure(t *testing.T) {
	e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Auth.CookieSecure = true }})
	e.api.Signup(t, "alice")
	r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}}).
		Want(t, http.StatusCreated)
	if ck := sessionCookieOf(t, r); !ck.Secure || !ck.HttpOnly {
		t.Fatalf("cookie = %+v", ck)
	}
}

// TestCookieOverHTTPS: with an https http.public_url the session cookie is
// Secure and named __Host-notifyd_session (Path=/, no Domain), it
// authenticates, and the plain name no longer does.
func TestCookieOverHTTPS(t *testing.T) {
	e := newEnvWith(t, envOptions{cfg: func(c *Config) {
		c.HTTP.PublicURL = "HTTPS://notify.example.com/inbox/"
		c.AllowedOrigins = []string{"https://notify.example.com"}
	}})
	e.api.Signup(t, "alice")
	r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}}).
		Want(t, http.StatusCreated)
	ck := cookieNamed(t, r, "__Host-notifyd_session")
	if !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("cookie = %+v (raw %q)", ck, r.Header.Get("Set-Cookie"))
	}
	e.do(t, req{method: "GET", path: "/api/me", cookie: ck.Value}).Want(t, http.StatusOK)
	plain := e.do(t, req{method: "GET", path: "/api/me", header: map[string]string{"Cookie": "notifyd_session=" + ck.Value}})
	plain.WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	out := e.do(t, req{method: "DELETE", path: "/api/sessions/current", cookie: ck.Value, origin: "https://notify.example.com"}).
		Want(t, http.StatusNoContent)
	if cleared := cookieNamed(t, out, "__Host-notifyd_session"); cleared.MaxAge >= 0 || !cleared.Secure {
		t.Fatalf("cookie not cleared: %q", out.Header.Get("Set-Cookie"))
	}
}

func TestUserAuthFailures(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	cases := []struct {
		name string
		r    req
	}{
		{"nothing", req{}},
		{"wrong secret", req{secret: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		{"wrong cookie", req{cookie: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		{"huge secret", req{secret: strings.Repeat("A", 4000)}},
		{"basic scheme", req{header: map[string]string{"Authorization": "Basic " + secret}}},
		{"bearer without token", req{header: map[string]string{"Authorization": "Bearer "}}},
		// The header wins over the cookie; a bad header is not rescued.
		{"bad header with good cookie", req{secret: "nope", cookie: secret}},
		{"api key is not a session", req{apiKey: testAPIKey}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.method, tc.r.path = "GET", "/api/me"
			e.do(t, tc.r).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		})
	}
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		e.do(t, req{method: "GET", path: "/api/me", header: map[string]string{"Authorization": "bearer " + secret}}).
			Want(t, http.StatusOK)
	})
}

func TestExpiredSession(t *testing.T) {
	// A session that expires a microsecond after it is created (the store
	// keeps microseconds) is expired by the time it is used.
	e := newEnvWith(t, envOptions{sessionTTL: time.Microsecond})
	e.api.Signup(t, "alice")
	secret := e.api.Login(t, "alice")
	e.do(t, req{method: "GET", path: "/api/me", secret: secret}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	e.do(t, req{method: "GET", path: "/api/me", cookie: secret}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
}

func TestLogout(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice")
	other := e.api.Login(t, "alice")
	_, sess, err := e.Accounts.Authenticate(t.Context(), secret)
	if err != nil {
		t.Fatal(err)
	}
	_, otherSess, err := e.Accounts.Authenticate(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	sock := e.subscribe(t, alice.ID, sess.ID)
	otherSock := e.subscribe(t, alice.ID, otherSess.ID)

	r := e.do(t, req{method: "DELETE", path: "/api/sessions/current", secret: secret}).Want(t, http.StatusNoContent)
	if len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
		t.Fatalf("204 with body %q, Content-Type %q", r.Body, r.Header.Get("Content-Type"))
	}
	if ck := sessionCookieOf(t, r); ck.Value != "" || ck.MaxAge >= 0 || !ck.HttpOnly || ck.Path != "/" {
		t.Fatalf("cookie not cleared: %q", r.Header.Get("Set-Cookie"))
	}
	// The secret fails at once, and the session's socket is told 4401.
	e.do(t, req{method: "GET", path: "/api/me", secret: secret}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	e.do(t, req{method: "DELETE", path: "/api/sessions/current", secret: secret}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	select {
	case <-sock.Done():
		if why, _ := sock.CloseReason(); why != notify.CloseUnauthorized {
			t.Fatalf("close reason %v, want %v", why, notify.CloseUnauthorized)
		}
	default:
		t.Fatal("the session's socket was not closed")
	}
	// Another session of the same user is untouched.
	select {
	case <-otherSock.Done():
		t.Fatal("another session's socket was closed")
	default:
	}
	e.do(t, req{method: "GET", path: "/api/me", secret: other}).Want(t, http.StatusOK)

	t.Run("by cookie", func(t *testing.T) {
		e.do(t, req{method: "DELETE", path: "/api/sessions/current", cookie: other, origin: testOrigin}).Want(t, http.StatusNoContent)
		e.do(t, req{method: "GET", path: "/api/me", cookie: other}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	})
}

func TestCSRF(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	routes := []req{
		{method: "POST", path: "/api/notifications/read-all"},
		{method: "POST", path: "/api/tasks", body: `{"name":"x","duration_ms":0}`},
		{method: "DELETE", path: "/api/notifications/1"},
	}
	for _, r := range routes {
		for _, origin := range []string{"https://evil.example", "null", "http://localhost:8001", "http://localhost:8000.evil.example"} {
			t.Run(r.method+" "+r.path+" from "+origin, func(t *testing.T) {
				r.cookie, r.origin = secret, origin
				e.do(t, r).WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
			})
		}
	}
	t.Run("logout from a foreign origin keeps the session", func(t *testing.T) {
		e.do(t, req{method: "DELETE", path: "/api/sessions/current", cookie: secret, origin: "https://evil.example"}).
			WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
		e.do(t, req{method: "GET", path: "/api/me", secret: secret}).Want(t, http.StatusOK)
	})
	t.Run("allowed origin, any case", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", cookie: secret, origin: "HTTP://LOCALHOST:8000"}).Want(t, http.StatusOK)
	})
	t.Run("no Origin header", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", cookie: secret}).Want(t, http.StatusOK)
	})
	t.Run("no Origin header, but the browser says cross-site", func(t *testing.T) {
		cross := map[string]string{"Sec-Fetch-Site": "cross-site"}
		for _, r := range append(routes, req{method: "DELETE", path: "/api/sessions/current"}, req{method: "DELETE", path: "/api/sessions"}) {
			r.cookie, r.header = secret, cross
			e.do(t, r).WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
		}
		e.do(t, req{method: "GET", path: "/api/me", secret: secret}).Want(t, http.StatusOK) // still logged in
		same := map[string]string{"Sec-Fetch-Site": "same-site"}
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", cookie: secret, header: same}).Want(t, http.StatusOK)
	})
	t.Run("bearer from a foreign origin", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: secret, origin: "https://evil.example"}).Want(t, http.StatusOK)
	})
	t.Run("cookie GET from a foreign origin", func(t *testing.T) {
		e.do(t, req{method: "GET", path: "/api/me", cookie: secret, origin: "https://evil.example"}).Want(t, http.StatusOK)
	})
}
