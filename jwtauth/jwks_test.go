package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/metricstest"
)

// jwksServer serves a JWKS whose keys the test sets, counts its requests,
// and can fail or hang.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	body     []byte
	status   int           // 0: 200
	hang     chan struct{} // non-nil: requests wait until it is closed
}

func newJWKSServer(tb testing.TB, keys map[string]*ecdsa.PrivateKey) *jwksServer {
	tb.Helper()
	s := &jwksServer{}
	s.setKeys(tb, keys)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		body, status, hang := s.body, s.status, s.hang
		s.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	tb.Cleanup(s.Close)
	return s
}

// setKeys publishes the public halves of keys, by kid.
func (s *jwksServer) setKeys(tb testing.TB, keys map[string]*ecdsa.PrivateKey) {
	tb.Helper()
	st := jwkset.NewMemoryStorage()
	for kid, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(&k.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgES256}})
		if err != nil {
			tb.Fatal(err)
		}
		if err := st.KeyWrite(context.Background(), jwk); err != nil {
			tb.Fatal(err)
		}
	}
	body, err := st.JSONPublic(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func (s *jwksServer) set(status int, hang chan struct{}) {
	s.mu.Lock()
	s.status, s.hang = status, hang
	s.mu.Unlock()
}

func es256(tb testing.TB, k *ecdsa.PrivateKey, kid string) string {
	return sign(tb, jwt.SigningMethodES256, k, claims("user-1"), map[string]any{"kid": kid})
}

// TestJWKSFetchedAtStart: the JWKS is fetched once by New, and a token
// whose kid it holds verifies without another request.
func TestJWKSFetchedAtStart(t *testing.T) {
	a := newEC(t)
	srv := newJWKSServer(t, map[string]*ecdsa.PrivateKey{"a": a})
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL}, jwtauth.Options{})
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests after New = %d, want 1", n)
	}
	if _, err := v.Verify(context.Background(), es256(t, a, "a")); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests = %d, want still 1", n)
	}
	// HS256 is not allowed by a JWKS: even with a kid of the set.
	wantRefused(t, verifyErr(v, sign(t, jwt.SigningMethodHS256, []byte(secretA), claims("user-1"), map[string]any{"kid": "a"})))
}

// TestJWKSUnknownKid: a token with an unknown kid refreshes the JWKS once;
// more unknown kids within jwks_min_refresh fetch nothing.
func TestJWKSUnknownKid(t *testing.T) {
	a, b, c := newEC(t), newEC(t), newEC(t)
	srv := newJWKSServer(t, map[string]*ecdsa.PrivateKey{"a": a})
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL, JWKSMinRefresh: config.Duration(time.Hour)}, jwtauth.Options{})
	// The app rotates in key b: the first token signed with it refreshes.
	srv.setKeys(t, map[string]*ecdsa.PrivateKey{"a": a, "b": b})
	if _, err := v.Verify(context.Background(), es256(t, b, "b")); err != nil {
		t.Fatalf("Verify with the rotated key: %v", err)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("requests = %d, want 2 (start, one refresh)", n)
	}
	srv.setKeys(t, map[string]*ecdsa.PrivateKey{"a": a, "b": b, "c": c})
	for range 3 {
		wantRefused(t, verifyErr(v, es256(t, c, "c")))
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("requests = %d, want still 2: at most one refresh per jwks_min_refresh", n)
	}
}

// TestJWKSUnreachable: a refresh that fails keeps the last good keys, and
// is counted.
func TestJWKSUnreachable(t *testing.T) {
	a, b := newEC(t), newEC(t)
	srv := newJWKSServer(t, map[string]*ecdsa.PrivateKey{"a": a})
	reg := prometheus.NewRegistry()
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL}, jwtauth.Options{Metrics: notify.NewMetrics(reg)})
	srv.set(http.StatusServiceUnavailable, nil)
	wantRefused(t, verifyErr(v, es256(t, b, "b"))) // refresh fails
	if n := srv.requests.Load(); n != 2 {
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
	srv := newJWKSServer(t, map[string]*ecdsa.PrivateKey{"a": a})
	v := newVerifier(t, config.JWT{JWKSURL: srv.URL}, jwtauth.Options{MaxWait: 100 * time.Millisecond})
	hang := make(chan struct{})
	defer close(hang)
	srv.set(0, hang)
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
