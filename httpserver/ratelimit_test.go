package httpserver

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

func TestLoginRateLimitPerUser(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		c.Auth.LoginPerMinuteIP = 1000
		c.Auth.LoginPerMinuteUser = 3
	}})
	e.api.Signup(t, "alice")
	e.api.Signup(t, "bob")
	for i := range 3 {
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": "wrong " + strconv.Itoa(i)}}).
			WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	}
	// The right password does not get past the limit, whatever the case
	// of the name.
	for _, name := range []string{"alice", "ALICE"} {
		r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": name, "password": testPass}})
		r.WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
		// 3 per minute: the next attempt is in 20 s.
		if got := r.Header.Get("Retry-After"); got != "20" {
			t.Fatalf("Retry-After = %q, want 20", got)
		}
	}
	// Other users are not affected, nor are unknown names.
	e.api.Login(t, "bob")
	e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "nobody", "password": "x"}}).
		WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
}

func TestLoginRateLimitPerIP(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		c.Auth.LoginPerMinuteIP = 4
		c.Auth.LoginPerMinuteUser = 1000
	}})
	e.api.Signup(t, "alice") // takes one of the 4
	for _, name := range []string{"u1", "u2", "u3"} {
		e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": name, "password": "x"}}).
			WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	}
	r := e.do(t, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}})
	r.WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	if got := r.Header.Get("Retry-After"); got != "15" {
		t.Fatalf("Retry-After = %q, want 15", got)
	}
	// Even a bad body counts against the IP limit and is refused first.
	e.do(t, req{method: "POST", path: "/api/sessions", body: `{`}).WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
}

// TestSignupRateLimitPerIP: each sign-up costs an argon2 hash, so sign-ups
// share the per-IP login limit.
func TestSignupRateLimitPerIP(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		c.Auth.LoginPerMinuteIP = 2
	}})
	e.api.Signup(t, "alice")
	e.do(t, req{method: "POST", path: "/api/users", body: map[string]string{"username": "bob", "password": "x"}}).
		WantError(t, http.StatusBadRequest, notify.EINVALID, "password")
	r := e.do(t, req{method: "POST", path: "/api/users", body: map[string]string{"username": "carol", "password": testPass}})
	r.WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
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
		login(e, "203.0.113.1").Want(t, http.StatusUnauthorized)
		login(e, "203.0.113.2").WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	})
	t.Run("honoured from a trusted proxy", func(t *testing.T) {
		e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
			limitOne(c)
			c.HTTP.TrustedProxies = []string{"127.0.0.1", "::1"}
		}})
		login(e, "203.0.113.1").Want(t, http.StatusUnauthorized)
		login(e, "203.0.113.2").Want(t, http.StatusUnauthorized)
		login(e, "203.0.113.1").WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	})
	t.Run("an invalid list trusts no proxy", func(t *testing.T) {
		e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
			limitOne(c)
			c.HTTP.TrustedProxies = []string{"127.0.0.1", "::1", "not-an-address"}
		}})
		login(e, "203.0.113.1").Want(t, http.StatusUnauthorized)
		login(e, "203.0.113.2").WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
		if !strings.Contains(e.Logs.String(), "trusted_proxies") {
			t.Fatal("the invalid list was not logged")
		}
	})
	t.Run("not honoured from another proxy", func(t *testing.T) {
		e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
			limitOne(c)
			c.HTTP.TrustedProxies = []string{"10.0.0.0/8"}
		}})
		login(e, "203.0.113.1").Want(t, http.StatusUnauthorized)
		login(e, "203.0.113.2").WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
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
	first, second, third := l.take("a"), l.take("a"), l.take("a")
	if first != 0 || second != 0 || third == 0 {
		t.Fatal("a after eviction: want a full bucket of 2")
	}
}
