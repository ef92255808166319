package wsserver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
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
		{"json secret", nil, func(s string) string { return authJSON(s, -1) }},
		{"bare secret", nil, func(s string) string { return s }},
		{"json secret with after_id", nil, func(s string) string { return authJSON(s, 0) }},
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
			func(s string) string { return authJSON(s, -1) },
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, secret := e.login(t, "user"+string(rune('a'+i)))
			// Two notifications, one read: unread_count is 1.
			first := e.notify(t, u.ID, "one")
			e.notify(t, u.ID, "two")
			if _, err := e.svc.SetRead(ctx, u.ID, first.ID, true); err != nil {
				t.Fatal(err)
			}
			var header http.Header
			if tt.header != nil {
				header = tt.header(secret)
			}
			c := e.open(t, header)
			c.send(t, tt.msg(secret))
			hello := c.next(t)
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
	e := newEnv(t)
	u, _, secret := e.login(t, "alice")
	// An expired session: stored directly, so no clock is needed.
	expired := "expired-secret-expired-secret-expired-secret"
	now := time.Now()
	if _, err := e.st.CreateSession(context.Background(), notify.Session{
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
		{"bad bare secret", false, "not-a-secret", notify.CloseUnauthorized},
		{"bad json secret", false, authJSON("not-a-secret", -1), notify.CloseUnauthorized},
		{"expired secret", false, authJSON(expired, -1), notify.CloseUnauthorized},
		{"expired bare secret", false, expired, notify.CloseUnauthorized},
		{"no secret and no cookie", false, `{"type":"auth"}`, notify.CloseUnauthorized},
		{"empty bare secret", false, "", notify.CloseUnauthorized},
		{"binary first message", true, secret, notify.CloseBadMessage},
		{"garbage json", false, `{"type":"auth",`, notify.CloseBadMessage},
		{"json with trailing garbage", false, authJSON(secret, -1) + "x", notify.CloseBadMessage},
		{"wrong type", false, `{"type":"hello","secret":"` + secret + `"}`, notify.CloseBadMessage},
		{"no type", false, `{"secret":"` + secret + `"}`, notify.CloseBadMessage},
		{"negative after_id", false, `{"type":"auth","secret":"` + secret + `","after_id":-1}`, notify.CloseBadMessage},
		{"after_id not a number", false, `{"type":"auth","secret":"` + secret + `","after_id":"3"}`, notify.CloseBadMessage},
		{"oversize first message", false, strings.Repeat("x", 4097), notify.CloseTooBig},
		{"both secret and token", false, `{"type":"auth","secret":"` + secret + `","token":"` + token(t, "u1", time.Hour) + `"}`, notify.CloseBadMessage},
		{"expired token", false, tokenAuth(token(t, "u1", -time.Minute), -1), notify.CloseUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.open(t, nil)
			typ := websocket.MessageText
			if tt.binary {
				typ = websocket.MessageBinary
			}
			c.write(t, typ, []byte(tt.msg))
			// No hello: the very first read is the close.
			c.expectClose(t, tt.code)
			eventually(t, "no socket registered", func() bool { return registered(t, e, u.ID, "u1") == 0 })
		})
	}
}

func TestAuthTimeout(t *testing.T) {
	e := newEnv(t, func(ec *envConfig) { ec.ws.AuthTimeout = config.Duration(200 * time.Millisecond) })
	c := e.open(t, nil)
	c.expectClose(t, notify.CloseTimeout)
}

func TestAuthDatabaseDown(t *testing.T) {
	e := newEnv(t)
	_, _, secret := e.login(t, "alice")
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	c := e.open(t, nil)
	c.send(t, authJSON(secret, -1))
	c.expectClose(t, closeTryAgain)
}

func TestAuthRevoked(t *testing.T) {
	e := newEnv(t)
	_, sess, secret := e.login(t, "alice")
	if err := e.acc.Logout(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	c := e.open(t, nil)
	c.send(t, secret)
	c.expectClose(t, notify.CloseUnauthorized)
}

// write sends a message of any type.
func (c *client) write(tb testing.TB, typ websocket.MessageType, p []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, typ, p); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// registered returns how many sockets the hub holds for the user userID
// and for the user the app names ext (when it exists): the users a refused
// auth message could have been let in as.
func registered(tb testing.TB, e *env, userID int64, ext string) int {
	tb.Helper()
	n := e.hub.UserCount(userID)
	ids, err := e.st.ExternalUserIDs(context.Background(), []string{ext})
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range ids {
		n += e.hub.UserCount(id)
	}
	return n
}
