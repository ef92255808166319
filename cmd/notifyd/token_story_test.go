package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/internal/testkit"
)

// TestTokenStory is the token path end to end through run(): the app's
// backend signs a token (`notifyd token`), the page opens a socket with it
// and calls the user API with it, and a notification published by external
// id reaches the socket.
func TestTokenStory(t *testing.T) {
	env := testEnv(t)
	env["NOTIFYD_AUTH_JWT_HMAC_SECRETS"] = "story-secret-of-at-least-32-bytes!"
	env["NOTIFYD_AUTH_JWT_AUDIENCE"] = "notifyd"
	in := start(t, env)

	var out bytes.Buffer
	if err := run(context.Background(), []string{"-config", "/dev/null", "token", "-sub", "user-7", "-ttl", "1h"},
		environ(env), &out, &out); err != nil {
		t.Fatalf("notifyd token: %v", err)
	}
	tok := strings.TrimSpace(out.String())

	ws := testkit.Connect(t, in.WSURL, testkit.SecretAuth(tok, -1), nil) // a JWT in "secret" is taken as a token
	if _, err := in.publisher(t).Notify(context.Background(), "user-7", client.NewNotification{Title: "Invoice paid"}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if m := ws.NextOfType(t, "notification"); m.Notification.Title != "Invoice paid" {
		t.Fatalf("got %s", m.Raw)
	}

	var me struct {
		User struct {
			ExternalID string `json:"external_id"`
		} `json:"user"`
		UnreadCount int `json:"unread_count"`
	}
	if code := in.api(t, "GET", "/api/me", tok, nil, &me); code != http.StatusOK {
		t.Fatalf("/api/me: status %d", code)
	}
	if me.User.ExternalID != "user-7" || me.UnreadCount != 1 {
		t.Fatalf("/api/me = %+v", me)
	}
	if logs := in.logs.String(); strings.Contains(logs, tok) || strings.Contains(logs, "story-secret") {
		t.Fatal("the token or the secret was logged")
	}
}
