package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/metrics/metricstest"
)

type keyset = map[string]*ecdsa.PrivateKey

func es256(tb testing.TB, k *ecdsa.PrivateKey, kid string) string {
	tb.Helper()
	return jwtauthtest.ES256(tb, k, kid, "user-1")
}

// TestJWKSFetchedAtStart: the JWKS is fetched once by New, and a token
// whose kid it holds verifies without another request.
func TestJWKSFetchedAtStart(t *testing.T) {
	a := newEC(t)
	srv := jwtauthtest.NewJWKSServer(t, keyset{"a": a})
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL}, jwtauth.Options{})
	if n := srv.Requests(); n != 1 {
		t.Fatalf("requests after New = %d, want 1", n)
	}
	if _, err := v.Verify(context.Background(), es256(t, a, "a")); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if n := srv.Requests(); n != 1 {
		t.Fatalf("requests = %d, want still 1", n)
	}
	// HS256 is not allowed by a JWKS: even with a kid of the set.
	wantRefused(t, verifyErr(v, sign(t, jwt.SigningMethodHS256, []byte(secretA), claims("user-1"), map[string]any{"kid": "a"})))
}

// TestJWKSUnknownKid: a token with an unknown kid refreshes the JWKS once;
// more unknown kids within jwks_min_refresh fetch nothing.
func TestJWKSUnknownKid(t *testing.T) {
	a, b, c := newEC(t), newEC(t), newEC(t)
	srv := jwtauthtest.NewJWKSServer(t, keyset{"a": a})
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL, JWKSMinRefresh: config.Duration(time.Hour)}, jwtauth.Options{})
	// The app rotates in key b: the first token signed with it refreshes.
	srv.SetKeys(t, keyset{"a": a, "b": b})
	if _, err := v.Verify(context.Background(), es256(t, b, "b")); err != nil {
		t.Fatalf("Verify with the rotated key: %v", err)
	}
	if n := srv.Requests(); n != 2 {
		t.Fatalf("requests = %d, want 2 (start, one refresh)", n)
	}
	srv.SetKeys(t, keyset{"a": a, "b": b, "c": c})
	for range 3 {
		wantRefused(t, verifyErr(v, es256(t, c, "c")))
	}
	if n := srv.Requests(); n != 2 {
		t.Fatalf("requests = %d, want still 2: at most one refresh per jwks_min_refresh", n)
	}
}

// TestJWKSUnreachable: a refresh that fails keeps the last good keys, and
// is counted.
func TestJWKSUnreachable(t *testing.T) {
	a, b := newEC(t), newEC(t)
	srv := jwtauthtest.NewJWKSServer(t, keyset{"a": a})
	reg := prometheus.NewRegistry()
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL}, jwtauth.Options{Metrics: metrics.New(reg)})
	srv.Fail(http.StatusServiceUnavailable)
	wantRefused(t, verifyErr(v, es256(t, b, "b"))) // refresh fails
	if n := srv.Requests(); n != 2 {
		t.Fatalf("requests = %d, want 2", n)
	}
	if got := metricstest.Value(t, reg, "notifyd_jwks_refresh_errors_total"); got != 1 {
		t.Fatalf("notifyd_jwks_refresh_errors_total = %v, want 1", got)
	}
	if _, err := v.Verify(context.Background(), es256(t, a, "a")); err != nil {
		t.Fatalf("the last good key stopped working: %v", err)
	}
}

// TestJWKSSlow: a JWKS that does not answer holds a verification no
// longer than the bound: it fails instead of waiting for the server.
func TestJWKSSlow(t *testing.T) {
	a, b := newEC(t), newEC(t)
	srv := jwtauthtest.NewJWKSServer(t, keyset{"a": a})
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL, JWKSMaxWait: config.Duration(100 * time.Millisecond)}, jwtauth.Options{})
	srv.Hang()
	done := make(chan error, 1)
	go func() { done <- verifyErr(v, es256(t, b, "b")) }()
	select {
	case err := <-done:
		wantRefused(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Verify waits on a JWKS that does not answer")
	}
}

func verifyErr(v *jwtauth.Verifier, token string) error {
	_, err := v.Verify(context.Background(), token)
	return err
}

// TestJWKSDownAtStart: a JWKS that fails at start does not stop start-up;
// the failure is counted, and the keys arrive with a later refresh.
func TestJWKSDownAtStart(t *testing.T) {
	a := newEC(t)
	srv := jwtauthtest.NewJWKSServer(t, keyset{"a": a})
	srv.Fail(http.StatusBadGateway)
	reg := prometheus.NewRegistry()
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL}, jwtauth.Options{Metrics: metrics.New(reg)})
	if got := metricstest.Value(t, reg, "notifyd_jwks_refresh_errors_total"); got != 1 {
		t.Fatalf("notifyd_jwks_refresh_errors_total = %v, want 1", got)
	}
	srv.Fail(0)
	if _, err := v.Verify(context.Background(), es256(t, a, "a")); err != nil {
		t.Fatalf("Verify once the JWKS is back: %v", err)
	}
}
