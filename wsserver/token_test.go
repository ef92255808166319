package wsserver

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// expectCloseReason asserts that the socket ends with code and reason.
func (c *client) expectCloseReason(tb testing.TB, code int, reason string) {
	tb.Helper()
	for {
		f, err := c.read(tb)
		if err == nil {
			if f.Type == "pong" {
				continue
			}
			tb.Fatalf("got a %q message, want close %d %q", f.Type, code, reason)
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || int(ce.Code) != code || ce.Reason != reason {
			tb.Fatalf("socket ended with %v, want close %d %q", err, code, reason)
		}
		return
	}
}

// TestTokenAuth: a token authenticates a socket as the external user its
// sub names, creating the user on first sight, and after_id replays.
func TestTokenAuth(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, tokenAuth(token(t, "auth0|new-user", time.Hour), -1))
	_ = c
	u, err := e.acc.ExternalUser(context.Background(), "auth0|new-user")
	if err != nil {
		t.Fatalf("the token's user was not created: %v", err)
	}
	if n := e.hub.UserCount(u.ID); n != 1 {
		t.Fatalf("sockets of the new user = %d, want 1", n)
	}

	n1 := e.notify(t, u.ID, "one")
	e.notify(t, u.ID, "two")
	c2 := e.connect(t, tokenAuth(token(t, "auth0|new-user", time.Hour), n1.ID))
	if f := c2.nextNotification(t); f.Notification.Title != "two" {
		t.Fatalf("replayed %q, want two", f.Notification.Title)
	}
}

// TestTokenNeverReachesSelfSignup: a token whose sub equals a self-signup
// username authenticates the external user of that id, a distinct user.
func TestTokenNeverReachesSelfSignup(t *testing.T) {
	e := newEnv(t)
	self := storetest.User(t, e.st, "alice")
	c := e.open(t, nil)
	c.send(t, tokenAuth(token(t, "alice", time.Hour), -1))
	hello := c.next(t)
	if hello.Type != "hello" || hello.User == nil {
		t.Fatalf("got %+v, want hello", hello)
	}
	if hello.User.ID == self.ID || hello.User.ExternalID != "alice" || hello.User.Username != "" {
		t.Fatalf("token reached %+v, want a new external user (self-signup is %d)", hello.User, self.ID)
	}
	// What is sent to the self-signup account does not reach the socket.
	e.notify(t, self.ID, "private")
	e.notify(t, hello.User.ID, "for the external user")
	if f := c.nextNotification(t); f.Notification.Title != "for the external user" {
		t.Fatalf("got %q", f.Notification.Title)
	}
}

// TestTokenRefused: bad tokens close with 4401 and a reason naming why.
func TestTokenRefused(t *testing.T) {
	tests := []struct {
		name   string
		jwt    *config.JWT // nil: the default test keys
		token  string
		reason string
	}{
		{"expired", nil, token(t, "u1", -time.Minute), "token expired"},
		{"bad signature", nil, token(t, "u1", time.Hour) + "x", "invalid token"},
		{"invalid sub", nil, token(t, "no spaces allowed", time.Hour), ""},
		{"tokens not configured", &config.JWT{}, token(t, "u1", time.Hour), "tokens are not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(ec *envConfig) {
				if tt.jwt != nil {
					ec.jwt = *tt.jwt
				}
			})
			c := e.open(t, nil)
			c.send(t, tokenAuth(tt.token, -1))
			if tt.reason == "" {
				c.expectClose(t, notify.CloseUnauthorized)
				return
			}
			c.expectCloseReason(t, notify.CloseUnauthorized, tt.reason)
		})
	}
}

// TestTokenExpiryCloses: a socket whose token expires without a refresh
// is closed with 4401 "token expired".
func TestTokenExpiryCloses(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, tokenAuth(token(t, "u1", time.Second), -1))
	c.expectCloseReason(t, notify.CloseUnauthorized, "token expired")
}

// TestTokenRefresh: a refresh with a newer token for the same user keeps
// the socket open past the first token's expiry; a refresh for another
// user, or an invalid one, closes with 4401.
func TestTokenRefresh(t *testing.T) {
	t.Run("same user", func(t *testing.T) {
		e := newEnv(t)
		c := e.connect(t, tokenAuth(token(t, "u1", time.Second), -1))
		c.send(t, refreshMsg(token(t, "u1", time.Hour)))
		// Past the first token's exp (rounded down to the second).
		time.Sleep(2500 * time.Millisecond)
		u, err := e.acc.ExternalUser(context.Background(), "u1")
		if err != nil {
			t.Fatal(err)
		}
		e.notify(t, u.ID, "still here")
		if f := c.nextNotification(t); f.Notification.Title != "still here" {
			t.Fatalf("got %q", f.Notification.Title)
		}
	})
	for name, tc := range map[string]struct{ token, reason string }{
		"another user": {token(t, "u2", time.Hour), "refresh for another user"},
		"expired":      {token(t, "u1", -time.Minute), "token expired"},
		"garbage":      {"not.a.token", "invalid token"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := e.connect(t, tokenAuth(token(t, "u1", time.Hour), -1))
			c.send(t, refreshMsg(tc.token))
			c.expectCloseReason(t, notify.CloseUnauthorized, tc.reason)
		})
	}
	t.Run("on a self-signup session", func(t *testing.T) {
		e := newEnv(t)
		_, _, secret := e.login(t, "alice")
		c := e.connect(t, authJSON(secret, -1))
		c.send(t, refreshMsg(token(t, "alice", time.Hour)))
		c.expectCloseReason(t, notify.CloseUnauthorized, "refresh for another user")
	})
}

// TestSessionExpiryCloses: a socket authenticated by a session secret is
// closed with 4401 "session expired" when the session expires.
func TestSessionExpiryCloses(t *testing.T) {
	e := newEnv(t)
	u := storetest.User(t, e.st, "alice")
	secret := "session-secret-that-expires-soon-0123456789"
	now := time.Now()
	if _, err := e.st.CreateSession(context.Background(), notify.Session{
		UserID: u.ID, SecretHash: notify.HashSecret(secret), CreatedAt: now, ExpiresAt: now.Add(time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	c := e.connect(t, authJSON(secret, -1))
	c.expectCloseReason(t, notify.CloseUnauthorized, "session expired")
}

// TestTokenSocketHasNoSession: a token's socket is not indexed by session,
// so closing session 0 (none) leaves it open.
func TestTokenSocketHasNoSession(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, tokenAuth(token(t, "u1", time.Hour), -1))
	if n := e.hub.CloseSession(0, notify.CloseUnauthorized, "x"); n != 0 {
		t.Fatalf("CloseSession(0) closed %d sockets", n)
	}
	if ids := e.hub.SessionIDs(); len(ids) != 0 {
		t.Fatalf("SessionIDs = %v, want none", ids)
	}
	u, _ := e.acc.ExternalUser(context.Background(), "u1")
	e.notify(t, u.ID, "open")
	c.nextNotification(t)
}

// TestTokenSlowJWKS: a token whose kid sends the server to a JWKS that
// does not answer is refused within the verifier's bound (2 s), instead of
// holding the socket until the JWKS answers (never, here).
func TestTokenSlowJWKS(t *testing.T) {
	key := jwtauthtest.ECKey(t)
	jwks := jwtauthtest.NewJWKSServer(t, map[string]*ecdsa.PrivateKey{"a": key})
	e := newEnv(t, func(ec *envConfig) {
		ec.jwt = config.JWT{JWKSURL: jwks.URL, JWKSMinRefresh: config.Duration(time.Second)}
	})
	// The known key works without a fetch.
	e.connect(t, tokenAuth(jwtauthtest.ES256(t, key, "a", "u1"), -1))
	jwks.Hang()
	c := e.open(t, nil)
	c.send(t, tokenAuth(jwtauthtest.ES256(t, jwtauthtest.ECKey(t), "unknown", "u1"), -1))
	c.expectCloseReason(t, notify.CloseUnauthorized, "invalid token")
}
