package httpserver

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
)

// TestTokenUserAPI: a token of the app's backend in Authorization: Bearer
// works on the user API like a session secret: me, list, mark read. An
// unknown sub creates the external user.
func TestTokenUserAPI(t *testing.T) {
	e := newEnv(t)
	tok := jwtauthtest.Token(t, "user-42", time.Hour)

	var me meResponse
	e.do(t, req{method: "GET", path: "/api/me", secret: tok}).Want(t, http.StatusOK).Decode(t, &me)
	if me.User.ExternalID != "user-42" || me.User.Username != "" || me.UnreadCount != 0 {
		t.Fatalf("me = %+v, want the new external user user-42", me)
	}
	u, err := e.Accounts.ExternalUser(context.Background(), "user-42")
	if err != nil || u.ID != me.User.ID {
		t.Fatalf("ExternalUser = %+v, %v; me.user.id %d", u, err, me.User.ID)
	}

	n := e.Notify(t, u.ID, "invoice")
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications", secret: tok}).Want(t, http.StatusOK).Decode(t, &l)
	if len(l.Notifications) != 1 || l.Notifications[0].ID != n.ID {
		t.Fatalf("list = %+v", l.Notifications)
	}
	var out struct {
		Notification notify.Notification `json:"notification"`
	}
	e.do(t, req{method: "POST", path: fmt.Sprintf("/api/notifications/%d/read", n.ID), secret: tok}).
		Want(t, http.StatusOK).Decode(t, &out)
	if !out.Notification.Read {
		t.Fatalf("after read: %+v", out.Notification)
	}
}

// TestTokenNeverReachesSelfSignup: the reproduction of issue 8 with a
// token: a self-signup account named "dave" and a token for sub "dave"
// are two users, and the account's owner sees nothing of the other's.
func TestTokenNeverReachesSelfSignup(t *testing.T) {
	e := newEnv(t)
	attacker, attackerSecret := e.api.User(t, "dave")
	tok := jwtauthtest.Token(t, "dave", time.Hour)
	var me meResponse
	e.do(t, req{method: "GET", path: "/api/me", secret: tok}).Want(t, http.StatusOK).Decode(t, &me)
	if me.User.ID == attacker.ID || me.User.ExternalID != "dave" {
		t.Fatalf("token for dave reached %+v; the self-signup account is %d", me.User, attacker.ID)
	}
	e.Notify(t, me.User.ID, "private invoice")
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications", secret: attackerSecret}).Want(t, http.StatusOK).Decode(t, &l)
	if len(l.Notifications) != 0 {
		t.Fatalf("the self-signup account sees %+v", l.Notifications)
	}
}

// TestTokenRefused: bad tokens answer 401 with a message saying why;
// none is taken from the cookie.
func TestTokenRefused(t *testing.T) {
	e := newEnv(t)
	off := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Auth.JWT = config.JWT{} }})
	good := jwtauthtest.Token(t, "user-1", time.Hour)
	tests := []struct {
		name    string
		e       *env
		r       req
		message string
	}{
		{"expired", e, req{secret: jwtauthtest.Token(t, "user-1", -time.Minute)}, "token expired"},
		{"bad signature", e, req{secret: good + "x"}, "invalid token"},
		{"invalid sub", e, req{secret: jwtauthtest.Token(t, "has space", time.Hour)}, ""},
		{"not configured", off, req{secret: good}, "tokens are not configured"},
		{"in the cookie", e, req{cookie: good}, "missing or invalid session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.method, tt.r.path = "GET", "/api/me"
			got := tt.e.do(t, tt.r).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
			if tt.message != "" && got.Error.Message != tt.message {
				t.Fatalf("message %q, want %q", got.Error.Message, tt.message)
			}
		})
	}
}

// TestTokenLogout: a token has no session: DELETE /api/sessions/current
// answers 400 and ends nothing.
func TestTokenLogout(t *testing.T) {
	e := newEnv(t)
	tok := jwtauthtest.Token(t, "user-1", time.Hour)
	e.do(t, req{method: "DELETE", path: "/api/sessions/current", secret: tok}).
		WantError(t, http.StatusBadRequest, notify.EINVALID, "authorization")
	e.do(t, req{method: "GET", path: "/api/me", secret: tok}).Want(t, http.StatusOK)
}
