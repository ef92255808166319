// Package jwtauthtest is the test kit of tokens: a verifier over a test
// secret and tokens signed with it, for the HTTP and websocket suites.
package jwtauthtest

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
	"github.com/notifyd/notifyd/notify"
)

// Secret is the HMAC secret of the test servers' tokens (32 bytes).
const Secret = "notifyd-test-secret-of-32-bytes!"

// Config accepts HS256/384/512 tokens signed with Secret, without leeway,
// so that a test's short-lived token expires when it says; the JWKS
// bounds are config.Default's, the refresh interval shorter.
func Config() config.JWT {
	c := config.Default().Auth.JWT
	c.HMACSecrets, c.JWKSMinRefresh, c.Leeway = []string{Secret}, config.Duration(time.Second), 0
	return c
}

// Verifier builds the verifier of cfg, stopped when the test ends; nil
// (tokens refused) when cfg has no key.
func Verifier(tb testing.TB, cfg config.JWT) notify.TokenVerifier {
	tb.Helper()
	if !jwtauth.Configured(cfg) {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	v, err := jwtauth.New(ctx, cfg, jwtauth.Options{})
	if err != nil {
		tb.Fatalf("jwtauthtest: %v", err)
	}
	return v
}

// Token signs an HS256 token for sub with Secret, expiring after ttl
// (negative: already expired).
func Token(tb testing.TB, sub string, ttl time.Duration) string {
	tb.Helper()
	t, err := jwtauth.SignHS256([]byte(Secret), jwtauth.SignRequest{Subject: sub, TTL: ttl, Now: time.Now()})
	if err != nil {
		tb.Fatalf("jwtauthtest: %v", err)
	}
	return t
}
