package wsserver

import (
	"context"
	"crypto/ecdsa"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestTokenAuth: a token authenticates a socket as the external user its
// sub names, creating the user on first sight, and after_id replays.
func TestTokenAuth(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, testkit.TokenAuth(jwtauthtest.Token(t, "auth0|new-user", time.Hour), -1))
	_ = c
	u, err := e.Accounts.ExternalUser(context.Background(), "auth0|new-user")
	if err != nil {
		t.Fatalf("the token's user was not created: %v", err)
	}
	if n := e.Hub.UserCount(u.ID); n != 1 {
		t.Fatalf("sockets of the new user = %d, want 1", n)
	}

	n1 := e.Notify(t, u.ID, "one")
	e.Notify(t, u.ID, "two")
	c2 := e.connect(t, testkit.TokenAuth(jwtauthtest.Token(t, "auth0|new-user", time.Hour), n1.ID))
	if f := c2.NextNotification(t); f.Notification.Title != "two" {
		t.Fatalf("replayed %q, want two", f.Notification.Title)
	}
}

// TestTokenNeverReachesSelfSignup: a token whose sub equals a self-signup
// username authenticates the external user of that id, a distinct user.
func TestTokenNeverReachesSelfSignup(t *testing.T) {
	e := newEnv(t)
	self := storetest.User(t, e.Store, "alice")
	c := e.open(t, nil)
	c.Send(t, testkit.TokenAuth(jwtauthtest.Token(t, "alice", time.Hour), -1))
	hello := c.Next(t)
	if hello.Type != "hello" || hello.User == nil {
		t.Fatalf("got %+v, want hello", hello)
	}
	if hello.User.ID == self.ID || hello.User.ExternalID != "alice" || hello.User.Username != "" {
		t.Fatalf("token reached %+v, want a new external user (self-signup is %d)", hello.User, self.ID)
	}
	// What is sent to the self-signup account does not reach the socket.
	e.Notify(t, self.ID, "private")
	e.Notify(t, hello.User.ID, "for the external user")
	if f := c.NextNotification(t); f.Notification.Title != "for the external user" {
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
		{"expired", nil, jwtauthtest.Token(t, "u1", -time.Minute), "token expired"},
		{"bad signature", nil, jwtauthtest.Token(t, "u1", time.Hour) + "x", "invalid token"},
		{"invalid sub", nil, jwtauthtest.Token(t, "no spaces allowed", time.Hour), ""},
		{"tokens not configured", &config.JWT{}, jwtauthtest.Token(t, "u1", time.Hour), "tokens are not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(ec *envConfig) {
				if tt.jwt != nil {
					ec.jwt = *tt.jwt
				}
			})
			c := e.open(t, nil)
			c.Send(t, testkit.TokenAuth(tt.token, -1))
			if tt.reason == "" {
				c.ExpectClose(t, CloseUnauthorized)
				return
			}
			c.ExpectCloseReason(t, CloseUnauthorized, tt.reason)
		})
	}
}

// TestTokenExpiryCloses: a socket whose token expires without a refresh
// is closed with 4401 "token expired".
func TestTokenExpiryCloses(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, testkit.TokenAuth(shortToken(t, "u1"), -1))
	c.ExpectCloseReason(t, CloseUnauthorized, "token expired")
}

// TestTokenRefresh: a refresh with a newer token for the same user keeps
// the socket open past the first token's expiry; a refresh for another
// user, or an invalid one, closes with 4401.
func TestTokenRefresh(t *testing.T) {
	t.Run("same user", func(t *testing.T) {
		e := newEnv(t)
		c := e.connect(t, testkit.TokenAuth(shortToken(t, "u1"), -1))
		c.Send(t, testkit.Refresh(jwtauthtest.Token(t, "u1", time.Hour)))
		// Past the first token's exp.
		time.Sleep(2500 * time.Millisecond)
		u, err := e.Accounts.ExternalUser(context.Background(), "u1")
		if err != nil {
			t.Fatal(err)
		}
		e.Notify(t, u.ID, "still here")
		if f := c.NextNotification(t); f.Notification.Title != "still here" {
			t.Fatalf("got %q", f.Notification.Title)
		}
	})
	for name, tc := range map[string]struct{ token, reason string }{
		"another user": {jwtauthtest.Token(t, "u2", time.Hour), "refresh for another user"},
		"expired":      {jwtauthtest.Token(t, "u1", -time.Minute), "token expired"},
		"garbage":      {"not.a.token", "invalid token"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := e.connect(t, testkit.TokenAuth(jwtauthtest.Token(t, "u1", time.Hour), -1))
			c.Send(t, testkit.Refresh(tc.token))
			c.ExpectCloseReason(t, CloseUnauthorized, tc.reason)
		})
	}
	t.Run("on a self-signup session", func(t *testing.T) {
		e, _, secret := newEnvAs(t, "alice")
		c := e.connect(t, testkit.SecretAuth(secret, -1))
		c.Send(t, testkit.Refresh(jwtauthtest.Token(t, "alice", time.Hour)))
		c.ExpectCloseReason(t, CloseUnauthorized, "refresh for another user")
	})
}

// TestSessionExpiryCloses: a socket authenticated by a session secret is
// closed with 4401 "session expired" when the session expires.
func TestSessionExpiryCloses(t *testing.T) {
	e := newEnv(t)
	u := storetest.User(t, e.Store, "alice")
	secret := "session-secret-that-expires-soon-0123456789"
	now := time.Now()
	if _, err := e.Store.CreateSession(context.Background(), notify.Session{
		UserID: u.ID, SecretHash: notify.HashSecret(secret), CreatedAt: now, ExpiresAt: now.Add(time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	c := e.connect(t, testkit.SecretAuth(secret, -1))
	c.ExpectCloseReason(t, CloseUnauthorized, "session expired")
}

// TestTokenSocketHasNoSession: a token's socket is not indexed by session,
// so closing session 0 (none) leaves it open.
func TestTokenSocketHasNoSession(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, testkit.TokenAuth(jwtauthtest.Token(t, "u1", time.Hour), -1))
	if n := e.Hub.CloseSession(0, notify.CloseUnauthorized, "x"); n != 0 {
		t.Fatalf("CloseSession(0) closed %d sockets", n)
	}
	if ids := e.Hub.SessionIDs(); len(ids) != 0 {
		t.Fatalf("SessionIDs = %v, want none", ids)
	}
	u, _ := e.Accounts.ExternalUser(context.Background(), "u1")
	e.Notify(t, u.ID, "open")
	c.NextNotification(t)
}

// TestTokenSlowJWKS: a token whose kid sends the server to a JWKS that
// does not answer is refused within the verifier's bound (2 s), instead of
// holding the socket until the JWKS answers (never, here).
func TestTokenSlowJWKS(t *testing.T) {
	key := jwtauthtest.ECKey(t)
	jwks := jwtauthtest.NewJWKSServer(t, map[string]*ecdsa.PrivateKey{"a": key})
	e := newEnv(t, func(ec *envConfig) {
		ec.jwt = config.Default().Auth.JWT
		ec.jwt.JWKSURL, ec.jwt.JWKSMinRefresh = jwks.URL, config.Duration(time.Second)
	})
	// The known key works without a fetch.
	e.connect(t, testkit.TokenAuth(jwtauthtest.ES256(t, key, "a", "u1"), -1))
	jwks.Hang()
	c := e.open(t, nil)
	c.Send(t, testkit.TokenAuth(jwtauthtest.ES256(t, jwtauthtest.ECKey(t), "unknown", "u1"), -1))
	c.ExpectCloseReason(t, CloseUnauthorized, "invalid token")
}

// shortToken is a token for sub that expires within 1 to 2 seconds. A
// JWT's exp is whole seconds (rounded down), so a TTL of 1 s left between
// 0 and 1 s: near the end of a second the token expired before the hello
// was read, and the connect failed (CI, 2026-12-06).
func shortToken(tb testing.TB, sub string) string {
	tb.Helper()
	return jwtauthtest.Token(tb, sub, 2*time.Second)
}
