package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
)

// TestTokenCommand: `notifyd token` prints a token that notifyd's own
// verifier accepts for the same configuration, with iss and aud.
func TestTokenCommand(t *testing.T) {
	env := map[string]string{
		"NOTIFYD_AUTH_JWT_HMAC_SECRETS": "first-secret-of-at-least-32-bytes,second-secret-of-at-least-32-bytes",
		"NOTIFYD_AUTH_JWT_ISSUER":       "https://app.example",
		"NOTIFYD_AUTH_JWT_AUDIENCE":     "notifyd",
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-config", "/dev/null", "token", "-sub", "auth0|alice", "-ttl", "10m"},
		environ(env), &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v (stderr %s)", err, errOut.String())
	}
	tok := strings.TrimSpace(out.String())
	if strings.Contains(out.String()+errOut.String(), "first-secret") {
		t.Fatal("the secret was printed")
	}
	jc := config.Default().Auth.JWT
	jc.HMACSecrets, jc.Issuer, jc.Audience = []string{"first-secret-of-at-least-32-bytes"}, "https://app.example", "notifyd"
	v, err := jwtauth.New(context.Background(), jc, jwtauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify(%q): %v", tok, err)
	}
	if claims.Subject != "auth0|alice" {
		t.Fatalf("sub = %q", claims.Subject)
	}
	if left := time.Until(claims.ExpiresAt); left <= 0 || left > 11*time.Minute {
		t.Fatalf("expires in %v, want about 10m", left)
	}
}

// TestTokenCommandRefused: no secret, no or a bad -sub, a bad -ttl are
// usage errors (exit 2).
func TestTokenCommandRefused(t *testing.T) {
	secret := map[string]string{"NOTIFYD_AUTH_JWT_HMAC_SECRETS": "first-secret-of-at-least-32-bytes"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no secret", nil, []string{"-sub", "alice"}, "auth.jwt.hmac_secrets"},
		{"no sub", secret, nil, "-sub"},
		{"bad sub", secret, []string{"-sub", "a b"}, "-sub"},
		{"bad ttl", secret, []string{"-sub", "alice", "-ttl", "-1h"}, "-ttl"},
		{"extra argument", secret, []string{"-sub", "alice", "more"}, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"-config", "/dev/null", "token"}, tt.args...)
			err := run(context.Background(), args, environ(tt.env), &out, &out)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a usage error naming %q", err, tt.want)
			}
		})
	}
}

// TestServeRefusesBadJWTKeys: a public key file that cannot be used, or an
// HMAC secret too short, stops start-up with a usage error (exit 2) naming
// the key.
func TestServeRefusesBadJWTKeys(t *testing.T) {
	tests := map[string]struct{ key, value, want string }{
		"missing PEM file":  {"NOTIFYD_AUTH_JWT_PUBLIC_KEYS", t.TempDir() + "/missing.pem", "auth.jwt.public_keys[0]"},
		"short HMAC secret": {"NOTIFYD_AUTH_JWT_HMAC_SECRETS", "too-short", "auth.jwt.hmac_secrets[0]"},
		"relative JWKS URL": {"NOTIFYD_AUTH_JWT_JWKS_URL", "/jwks.json", "auth.jwt.jwks_url"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{
				"NOTIFYD_HTTP_ADDR":            "127.0.0.1:0",
				"NOTIFYD_WS_ADDR":              "127.0.0.1:0",
				"NOTIFYD_DATABASE_SQLITE_PATH": t.TempDir() + "/n.db",
				tt.key:                         tt.value,
			}
			var out bytes.Buffer
			err := run(context.Background(), []string{"-config", "/dev/null"}, environ(env), &out, &out)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a usage error naming %s", err, tt.want)
			}
			if tt.key == "NOTIFYD_AUTH_JWT_HMAC_SECRETS" && strings.Contains(err.Error()+out.String(), tt.value) {
				t.Fatal("the secret was printed")
			}
		})
	}
}

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

	ws := in.connect(t, tok) // a JWT in "secret" is taken as a token
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
