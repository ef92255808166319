package httpserver

import (
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// sessionSocket is one session of a user with a socket registered in the
// hub under it.
type sessionSocket struct {
	secret string
	sock   *notify.Subscriber
}

// openSession logs name in and registers a socket for the new session.
func (e *env) openSession(tb testing.TB, name string) sessionSocket {
	tb.Helper()
	secret := e.api.Login(tb, name)
	u, sess, err := e.Accounts.Authenticate(tb.Context(), secret)
	if err != nil {
		tb.Fatal(err)
	}
	return sessionSocket{secret: secret, sock: e.subscribe(tb, u.ID, sess.ID)}
}

// wantRevoked fails unless s's secret no longer works and its socket was
// closed with 4401.
func (e *env) wantRevoked(tb testing.TB, s sessionSocket) {
	tb.Helper()
	e.do(tb, req{method: "GET", path: "/api/me", secret: s.secret}).WantError(tb, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	select {
	case <-s.sock.Done():
		if why, _ := s.sock.CloseReason(); why != notify.CloseUnauthorized {
			tb.Fatalf("close reason %v, want %v", why, notify.CloseUnauthorized)
		}
	default:
		tb.Fatal("the revoked session's socket is still open")
	}
}

// wantAlive fails unless s's secret works and its socket is open.
func (e *env) wantAlive(tb testing.TB, s sessionSocket) {
	tb.Helper()
	e.do(tb, req{method: "GET", path: "/api/me", secret: s.secret}).Want(tb, http.StatusOK)
	select {
	case <-s.sock.Done():
		tb.Fatal("a session that should live had its socket closed")
	default:
	}
}

// TestLogoutEverywhere: DELETE /api/sessions ends every session of the
// caller, closes all their sockets with 4401 and clears the cookie;
// another user is untouched.
func TestLogoutEverywhere(t *testing.T) {
	e := newEnv(t)
	e.api.Signup(t, "alice")
	e.api.Signup(t, "bob")
	a1, a2, a3 := e.openSession(t, "alice"), e.openSession(t, "alice"), e.openSession(t, "alice")
	b := e.openSession(t, "bob")

	r := e.do(t, req{method: "DELETE", path: "/api/sessions", cookie: a2.secret, origin: testOrigin}).Want(t, http.StatusNoContent)
	if ck := sessionCookieOf(t, r); ck.Value != "" || ck.MaxAge >= 0 {
		t.Fatalf("cookie not cleared: %q", r.Header.Get("Set-Cookie"))
	}
	for _, s := range []sessionSocket{a1, a2, a3} {
		e.wantRevoked(t, s)
	}
	e.wantAlive(t, b)

	t.Run("needs a session", func(t *testing.T) {
		e.do(t, req{method: "DELETE", path: "/api/sessions", secret: a1.secret}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	})
	t.Run("refused cross-site", func(t *testing.T) {
		e.do(t, req{method: "DELETE", path: "/api/sessions", cookie: b.secret, origin: "https://evil.example"}).
			WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
		e.wantAlive(t, b)
	})
}

// TestSessionCap: a user holds at most auth.max_sessions_per_user
// sessions; one more login, or one more publisher session, ends the
// oldest, whose socket is closed with 4401.
func TestSessionCap(t *testing.T) {
	e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Auth.MaxSessionsPerUser = 2 }})
	e.api.Signup(t, "alice")
	e.api.Signup(t, "bob")
	b := e.openSession(t, "bob")
	s1, s2 := e.openSession(t, "alice"), e.openSession(t, "alice")
	e.wantAlive(t, s1)

	s3 := e.openSession(t, "alice")
	e.wantRevoked(t, s1)
	e.wantAlive(t, s2)
	e.wantAlive(t, s3)
	e.wantAlive(t, b)

	t.Run("publisher sessions", func(t *testing.T) {
		var p []sessionSocket
		for range 3 {
			var out struct {
				Secret    string      `json:"secret"`
				ExpiresAt string      `json:"expires_at"`
				User      notify.User `json:"user"`
			}
			e.do(t, req{method: "POST", path: "/api/publisher/users/app-user-7/sessions", apiKey: testAPIKey}).
				Want(t, http.StatusCreated).Decode(t, &out)
			_, sess, err := e.Accounts.Authenticate(t.Context(), out.Secret)
			if err != nil {
				t.Fatal(err)
			}
			p = append(p, sessionSocket{secret: out.Secret, sock: e.subscribe(t, out.User.ID, sess.ID)})
		}
		e.wantRevoked(t, p[0])
		e.wantAlive(t, p[1])
		e.wantAlive(t, p[2])
	})
}
