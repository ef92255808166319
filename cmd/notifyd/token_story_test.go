package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
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

	ws := dialWS(t, in.WSURL, tok, 0) // a JWT in "secret" is taken as a token
	if code := in.api(t, "POST", "/api/publisher/users/user-7/notifications", testAPIKey,
		map[string]string{"title": "Invoice paid"}, nil); code != http.StatusCreated {
		t.Fatalf("publish: status %d", code)
	}
	m := ws.nextOfType(t, "notification")
	if n, _ := m["notification"].(map[string]any); n["title"] != "Invoice paid" {
		t.Fatalf("got %v", m)
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
