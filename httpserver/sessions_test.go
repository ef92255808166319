package httpserver

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// sessionCookieOf returns the notifyd_session cookie a response sets.
func sessionCookieOf(tb testing.TB, r resp) *http.Cookie {
	tb.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	tb.Fatalf("no %s cookie in %v", sessionCookie, r.header.Values("Set-Cookie"))
	return nil
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	alice := e.signup(t, "Alice")

	t.Run("created with cookie", func(t *testing.T) {
		r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}}).
			want(t, http.StatusCreated)
		var out struct {
			Secret string      `json:"secret"`
			User   notify.User `json:"user"`
		}
		r.decode(t, &out)
		if out.User.ID != alice.ID || len(out.Secret) != 43 {
			t.Fatalf("login = %+v", out)
		}
		ck := sessionCookieOf(t, r)
		if ck.Value != out.Secret || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" ||
			ck.Secure || ck.MaxAge != int(time.Hour/time.Second) {
			t.Fatalf("cookie = %+v (raw %q)", ck, r.header.Get("Set-Cookie"))
		}
		e.do(t, req{method: "GET", path: "/api/me", secret: out.Secret}).want(t, http.StatusOK)
		e.do(t, req{method: "GET", path: "/api/me", cookie: ck.Value}).want(t, http.StatusOK)
		if strings.Contains(e.logs.String(), out.Secret) {
			t.Fatal("the secret reached the logs")
		}
	})

	t.Run("wrong password and unknown user look the same", func(t *testing.T) {
		wrong := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": "wrong password"}}).
			wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		unknown := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "nobody", "password": "wrong password"}}).
			wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
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
				wantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}

	t.Run("publisher-created user has no password", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: testAPIKey, body: `{"username":"synced"}`}).
			want(t, http.StatusCreated)
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "synced", "password": ""}}).
			wantError(t, http.StatusBadRequest, notify.EINVALID, "password")
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "synced", "password": "anything at all"}}).
			wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	})
}

func TestCookieSecure(t *testing.T) {
	e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Auth.CookieSecure = true }})
	e.signup(t, "alice")
	r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}}).
		want(t, http.StatusCreated)
	if ck := sessionCookieOf(t, r); !ck.Secure || !ck.HttpOnly {
		t.Fatalf("cookie = %+v", ck)
	}
}

func TestUserAuthFailures(t *testing.T) {
	e := newEnv(t)
	_, secret := e.user(t, "alice")
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
			e.do(t, tc.r).wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		})
	}
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		e.do(t, req{method: "GET", path: "/api/me", header: map[string]string{"Authorization": "bearer " + secret}}).
			want(t, http.StatusOK)
	})
}

func TestExpiredSession(t *testing.T) {
	// A session that expires a microsecond after it is created (the store
	// keeps microseconds) is expired by the time it is used.
	e := newEnvWith(t, envOptions{sessionTTL: time.Microsecond})
	e.signup(t, "alice")
	secret := e.login(t, "alice")
	e.do(t, req{method: "GET", path: "/api/me", secret: secret}).wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	e.do(t, req{method: "GET", path: "/api/me", cookie: secret}).wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	alice, secret := e.user(t, "alice")
	other := e.login(t, "alice")
	_, sess, err := e.accounts.Authenticate(t.Context(), secret)
	if err != nil {
		t.Fatal(err)
	}
	_, otherSess, err := e.accounts.Authenticate(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	sock := e.subscribe(t, alice.ID, sess.ID)
	otherSock := e.subscribe(t, alice.ID, otherSess.ID)

	r := e.do(t, req{method: "DELETE", path: "/api/sessions/current", secret: secret}).want(t, http.StatusNoContent)
	if len(r.body) != 0 || r.header.Get("Content-Type") != "" {
		t.Fatalf("204 with body %q, Content-Type %q", r.body, r.header.Get("Content-Type"))
	}
	if ck := sessionCookieOf(t, r); ck.Value != "" || ck.MaxAge >= 0 || !ck.HttpOnly || ck.Path != "/" {
		t.Fatalf("cookie not cleared: %q", r.header.Get("Set-Cookie"))
	}
	// The secret fails at once, and the session's socket is told 4401.
	e.do(t, req{method: "GET", path: "/api/me", secret: secret}).wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	e.do(t, req{method: "DELETE", path: "/api/sessions/current", secret: secret}).wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	select {
	case <-sock.Done():
		if code, _ := sock.CloseCode(); code != notify.CloseUnauthorized {
			t.Fatalf("close code %d, want %d", code, notify.CloseUnauthorized)
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
	e.do(t, req{method: "GET", path: "/api/me", secret: other}).want(t, http.StatusOK)

	t.Run("by cookie", func(t *testing.T) {
		e.do(t, req{method: "DELETE", path: "/api/sessions/current", cookie: other, origin: testOrigin}).want(t, http.StatusNoContent)
		e.do(t, req{method: "GET", path: "/api/me", cookie: other}).wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	})
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	_, secret := e.user(t, "alice")
	routes := []req{
		{method: "POST", path: "/api/notifications/read-all"},
		{method: "POST", path: "/api/tasks", body: `{"name":"x","duration_ms":0}`},
		{method: "DELETE", path: "/api/notifications/1"},
	}
	for _, r := range routes {
		for _, origin := range []string{"https://evil.example", "null", "http://localhost:8001", "http://localhost:8000.evil.example"} {
			t.Run(r.method+" "+r.path+" from "+origin, func(t *testing.T) {
				r.cookie, r.origin = secret, origin
				e.do(t, r).wantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
			})
		}
	}
	t.Run("logout from a foreign origin keeps the session", func(t *testing.T) {
		e.do(t, req{method: "DELETE", path: "/api/sessions/current", cookie: secret, origin: "https://evil.example"}).
			wantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
		e.do(t, req{method: "GET", path: "/api/me", secret: secret}).want(t, http.StatusOK)
	})
	t.Run("allowed origin, any case", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", cookie: secret, origin: "HTTP://LOCALHOST:8000"}).want(t, http.StatusOK)
	})
	t.Run("no Origin header", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", cookie: secret}).want(t, http.StatusOK)
	})
	t.Run("bearer from a foreign origin", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: secret, origin: "https://evil.example"}).want(t, http.StatusOK)
	})
	t.Run("cookie GET from a foreign origin", func(t *testing.T) {
		e.do(t, req{method: "GET", path: "/api/me", cookie: secret, origin: "https://evil.example"}).want(t, http.StatusOK)
	})
}

func TestLoginRateLimitPerUser(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		c.Auth.LoginPerMinuteIP = 1000
		c.Auth.LoginPerMinuteUser = 3
	}})
	e.signup(t, "alice")
	e.signup(t, "bob")
	for i := range 3 {
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": "wrong " + strconv.Itoa(i)}}).
			wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	}
	// The right password does not get past the limit, whatever the case
	// of the name.
	for _, name := range []string{"alice", "ALICE"} {
		r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": name, "password": testPass}})
		r.wantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
		// 3 per minute: the next attempt is in 20 s.
		if got := r.header.Get("Retry-After"); got != "20" {
			t.Fatalf("Retry-After = %q, want 20", got)
		}
	}
	// Other users are not affected, nor are unknown names.
	e.login(t, "bob")
	e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "nobody", "password": "x"}}).
		wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
}

func TestLoginRateLimitPerIP(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		c.Auth.LoginPerMinuteIP = 4
		c.Auth.LoginPerMinuteUser = 1000
	}})
	e.signup(t, "alice")
	for _, name := range []string{"u1", "u2", "u3", "u4"} {
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": name, "password": "x"}}).
			wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	}
	r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}})
	r.wantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	if got := r.header.Get("Retry-After"); got != "15" {
		t.Fatalf("Retry-After = %q, want 15", got)
	}
	// Even a bad body counts against the IP limit and is refused first.
	e.do(t, req{method: "POST", path: "/api/sessions", body: `{`}).wantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
}

func TestTrustedProxies(t *testing.T) {
	login := func(e *env, forwardedFor string) resp {
		return e.do(t, req{method: "POST", path: "/api/sessions",
			body:   map[string]string{"username": "nobody", "password": "x"},
			header: map[string]string{"X-Forwarded-For": forwardedFor}})
	}
	limitOne := func(c *Config) {
		c.Auth.LoginPerMinuteIP = 1
		c.Auth.LoginPerMinuteUser = 1000
	}
	t.Run("X-Forwarded-For ignored by default", func(t *testing.T) {
		e := newEnvWith(t, envOptions{frozen: true, cfg: limitOne})
		login(e, "203.0.113.1").want(t, http.StatusUnauthorized)
		login(e, "203.0.113.2").wantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	})
	t.Run("honoured from a trusted proxy", func(t *testing.T) {
		e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
			limitOne(c)
			c.HTTP.TrustedProxies = []string{"127.0.0.1", "::1"}
		}})
		login(e, "203.0.113.1").want(t, http.StatusUnauthorized)
		login(e, "203.0.113.2").want(t, http.StatusUnauthorized)
		login(e, "203.0.113.1").wantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	})
	t.Run("not honoured from another proxy", func(t *testing.T) {
		e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
			limitOne(c)
			c.HTTP.TrustedProxies = []string{"10.0.0.0/8"}
		}})
		login(e, "203.0.113.1").want(t, http.StatusUnauthorized)
		login(e, "203.0.113.2").wantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	})
}

func TestKeyedLimiterEviction(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newKeyedLimiter(2, func() time.Time { return now })
	for _, k := range []string{"a", "b", "c"} {
		if d := l.take(k); d != 0 {
			t.Fatalf("take %s: wait %s", k, d)
		}
	}
	if l.take("a") != 0 || l.take("a") == 0 {
		t.Fatal("a: want one more attempt, then a wait")
	}
	now = now.Add(refillPeriod)
	if d := l.take("d"); d != 0 {
		t.Fatalf("take d: wait %s", d)
	}
	if n := l.size(); n != 1 {
		t.Fatalf("%d buckets after a refill period, want 1 (idle ones evicted)", n)
	}
	// An evicted bucket comes back full, as it would have refilled anyway.
	if l.take("a") != 0 || l.take("a") != 0 || l.take("a") == 0 {
		t.Fatal("a after eviction: want a full bucket of 2")
	}
}
