package wsserver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
)

func TestAuthAccepted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		header func(secret string) http.Header
		msg    func(secret string) string
	}{
		{"json secret", nil, func(s string) string { return testkit.SecretAuth(s, -1) }},
		{"bare secret", nil, func(s string) string { return s }},
		{"json secret with after_id", nil, func(s string) string { return testkit.SecretAuth(s, 0) }},
		{
			"cookie",
			func(s string) http.Header { return http.Header{"Cookie": {SessionCookie + "=" + s}} },
			func(string) string { return `{"type":"auth"}` },
		},
		{
			// Set instead when http.public_url is https.
			"__Host- cookie",
			func(s string) http.Header { return http.Header{"Cookie": {SecureSessionCookie + "=" + s}} },
			func(string) string { return `{"type":"auth"}` },
		},
		{
			"__Host- cookie wins over a stale plain one",
			func(s string) http.Header {
				return http.Header{"Cookie": {SessionCookie + "=stale; " + SecureSessionCookie + "=" + s}}
			},
			func(string) string { return `{"type":"auth"}` },
		},
		{
			"json secret wins over cookie",
			func(string) http.Header { return http.Header{"Cookie": {SessionCookie + "=wrong"}} },
			func(s string) string { return testkit.SecretAuth(s, -1) },
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, secret := e.Session(t, "user"+string(rune('a'+i)))
			// Two notifications, one read: unread_count is 1.
			first := e.Notify(t, u.ID, "one")
			e.Notify(t, u.ID, "two")
			if _, err := e.Service.SetRead(ctx, u.ID, first.ID, true); err != nil {
				t.Fatal(err)
			}
			var header http.Header
			if tt.header != nil {
				header = tt.header(secret)
			}
			c := e.open(t, header)
			c.Send(t, tt.msg(secret))
			hello := c.Next(t)
			if hello.Type != "hello" {
				t.Fatalf("first frame = %+v, want hello", hello)
			}
			if hello.User == nil || hello.User.ID != u.ID || hello.User.Username != u.Username {
				t.Errorf("hello user = %+v, want %+v", hello.User, u)
			}
			if hello.UnreadCount == nil || *hello.UnreadCount != 1 {
				t.Errorf("hello unread_count = %v, want 1", hello.UnreadCount)
			}
		})
	}
}

func TestAuthRefused(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice")
	// An expired session: stored directly, so no clock is needed.
	expired := "expired-secret-expired-secret-expired-secret"
	now := time.Now()
	if _, err := e.Store.CreateSession(context.Background(), notify.Session{
		UserID: u.ID, SecretHash: notify.HashSecret(expired),
		CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		binary bool
		msg    string
		code   int
	}{
		{"bad bare secret", false, "not-a-secret", CloseUnauthorized},
		{"bad json secret", false, testkit.SecretAuth("not-a-secret", -1), CloseUnauthorized},
		{"expired secret", false, testkit.SecretAuth(expired, -1), CloseUnauthorized},
		{"expired bare secret", false, expired, CloseUnauthorized},
		{"no secret and no cookie", false, `{"type":"auth"}`, CloseUnauthorized},
		{"empty bare secret", false, "", CloseUnauthorized},
		{"binary first message", true, secret, CloseBadMessage},
		{"garbage json", false, `{"type":"auth",`, CloseBadMessage},
		{"json with trailing garbage", false, testkit.SecretAuth(secret, -1) + "x", CloseBadMessage},
		{"wrong type", false, `{"type":"hello","secret":"` + secret + `"}`, CloseBadMessage},
		{"no type", false, `{"secret":"` + secret + `"}`, CloseBadMessage},
		{"negative after_id", false, `{"type":"auth","secret":"` + secret + `","after_id":-1}`, CloseBadMessage},
		{"after_id not a number", false, `{"type":"auth","secret":"` + secret + `","after_id":"3"}`, CloseBadMessage},
		{"oversize first message", false, strings.Repeat("x", 4097), CloseTooBig},
		{"both secret and token", false, `{"type":"auth","secret":"` + secret + `","token":"` + jwtauthtest.Token(t, "u1", time.Hour) + `"}`, CloseBadMessage},
		{"expired token", false, testkit.TokenAuth(jwtauthtest.Token(t, "u1", -time.Minute), -1), CloseUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.open(t, nil)
			typ := websocket.MessageText
			if tt.binary {
				typ = websocket.MessageBinary
			}
			c.Write(t, typ, []byte(tt.msg))
			// No hello: the very first read is the close.
			c.ExpectClose(t, tt.code)
			testkit.Eventually(t, "no socket registered", func() bool { return registered(t, e, u.ID, "u1") == 0 })
		})
	}
}

func TestAuthTimeout(t *testing.T) {
	e := newEnv(t, func(ec *envConfig) { ec.ws.AuthTimeout = config.Duration(200 * time.Millisecond) })
	c := e.open(t, nil)
	c.ExpectClose(t, CloseTimeout)
}

func TestAuthDatabaseDown(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	if err := e.Store.Close(); err != nil {
		t.Fatal(err)
	}
	c := e.open(t, nil)
	c.Send(t, testkit.SecretAuth(secret, -1))
	c.ExpectClose(t, closeTryAgain)
}

func TestAuthRevoked(t *testing.T) {
	e := newEnv(t)
	_, sess, secret := e.Session(t, "alice")
	if err := e.Accounts.Logout(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	c := e.open(t, nil)
	c.Send(t, secret)
	c.ExpectClose(t, CloseUnauthorized)
}

// registered returns how many sockets the hub holds for the user userID
// and for the user the app names ext (when it exists): the users a refused
// auth message could have been let in as.
func registered(tb testing.TB, e *env, userID int64, ext string) int {
	tb.Helper()
	n := e.Hub.UserCount(userID)
	ids, err := e.Store.ExternalUserIDs(context.Background(), []string{ext})
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range ids {
		n += e.Hub.UserCount(id)
	}
	return n
}
