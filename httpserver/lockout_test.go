package httpserver

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// behindProxy makes the test client a trusted proxy, so each request can
// name its client address in X-Forwarded-For.
func behindProxy(c *Config) { c.HTTP.TrustedProxies = []string{"127.0.0.1", "::1"} }

// loginFrom posts a login for name with password as the client addr.
func (e *env) loginFrom(tb testing.TB, addr, name, password string) resp {
	tb.Helper()
	return e.do(tb, req{method: "POST", path: "/api/sessions",
		body:   map[string]string{"username": name, "password": password},
		header: map[string]string{"X-Forwarded-For": addr}})
}

// TestNoLockoutFromAnotherAddress: ten wrong passwords for alice from one
// address used to make her right password get 429 from everywhere. Only
// failures count, per (username, address).
func TestNoLockoutFromAnotherAddress(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		behindProxy(c)
		c.Auth.LoginPerMinuteUser = 10
	}})
	e.api.Signup(t, "alice")
	const attacker, victim = "203.0.113.66", "198.51.100.7"
	for i := range 10 {
		e.loginFrom(t, attacker, "alice", "wrong "+strconv.Itoa(i)).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	}
	t.Run("the attacker's address is limited", func(t *testing.T) {
		r := e.loginFrom(t, attacker, "ALICE", testPass)
		r.WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
		if got := r.Header.Get("Retry-After"); got != "6" {
			t.Fatalf("Retry-After = %q, want 6 (10 failures a minute)", got)
		}
	})
	t.Run("alice from her own address gets in", func(t *testing.T) {
		e.loginFrom(t, victim, "alice", testPass).Want(t, http.StatusCreated)
	})
	t.Run("right passwords are not counted", func(t *testing.T) {
		for range 12 {
			e.loginFrom(t, victim, "alice", testPass).Want(t, http.StatusCreated)
		}
	})
	t.Run("one failure does not lock her own address", func(t *testing.T) {
		e.loginFrom(t, victim, "alice", "typo").Want(t, http.StatusUnauthorized)
		e.loginFrom(t, victim, "alice", testPass).Want(t, http.StatusCreated)
	})
}

// TestLoginLimitIPv6By64: one host usually holds a whole /64, so the
// per-address limit counts IPv6 clients by /64.
func TestLoginLimitIPv6By64(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		behindProxy(c)
		c.Auth.LoginPerMinuteIP = 1
	}})
	e.loginFrom(t, "2001:db8:1:2::1", "nobody", "x").Want(t, http.StatusUnauthorized)
	e.loginFrom(t, "2001:db8:1:2::beef", "nobody", "x").WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	e.loginFrom(t, "2001:db8:1:3::1", "nobody", "x").Want(t, http.StatusUnauthorized)
}

// TestLoginGlobalLimit: logins and sign-ups of every address together are
// bounded too (auth.login_per_minute), so many addresses cannot add up to
// unbounded hashing.
func TestLoginGlobalLimit(t *testing.T) {
	e := newEnvWith(t, envOptions{frozen: true, cfg: func(c *Config) {
		behindProxy(c)
		c.Auth.LoginPerMinute = 3
	}})
	e.loginFrom(t, "192.0.2.1", "nobody", "x").Want(t, http.StatusUnauthorized)
	e.loginFrom(t, "192.0.2.2", "nobody", "x").Want(t, http.StatusUnauthorized)
	e.do(t, req{method: "POST", path: "/api/users", body: map[string]string{"username": "carol", "password": testPass},
		header: map[string]string{"X-Forwarded-For": "192.0.2.3"}}).Want(t, http.StatusCreated)
	r := e.loginFrom(t, "192.0.2.4", "carol", testPass)
	r.WantError(t, http.StatusTooManyRequests, notify.ERATELIMIT, "")
	if got := r.Header.Get("Retry-After"); got != "20" {
		t.Fatalf("Retry-After = %q, want 20", got)
	}
}
