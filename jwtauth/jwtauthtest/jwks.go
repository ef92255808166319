package jwtauthtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// JWKSServer serves a JWKS of ECDSA P-256 keys (ES256) that the test sets,
// counts its requests, and can fail or hang.
type JWKSServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	body     []byte
	status   int           // 0: 200
	hang     chan struct{} // non-nil: requests wait until the test ends
}

// NewJWKSServer serves keys, by kid; it is closed when the test ends.
func NewJWKSServer(tb testing.TB, keys map[string]*ecdsa.PrivateKey) *JWKSServer {
	tb.Helper()
	s := &JWKSServer{}
	s.SetKeys(tb, keys)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(func() {
		s.mu.Lock()
		if s.hang != nil {
			close(s.hang)
			s.hang = nil
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

func (s *JWKSServer) serve(w http.ResponseWriter, r *http.Request) {
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
}

// Requests returns how many requests the server has received.
func (s *JWKSServer) Requests() int64 { return s.requests.Load() }

// SetKeys publishes the public halves of keys, by kid.
func (s *JWKSServer) SetKeys(tb testing.TB, keys map[string]*ecdsa.PrivateKey) {
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

// Fail makes every request answer status.
func (s *JWKSServer) Fail(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

// Hang makes every request wait, unanswered, until the test ends.
func (s *JWKSServer) Hang() {
	s.mu.Lock()
	if s.hang == nil {
		s.hang = make(chan struct{})
	}
	s.mu.Unlock()
}

// ECKey returns a new ECDSA P-256 key.
func ECKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// ES256 signs a token for sub with k, valid for an hour, with kid in its
// header.
func ES256(tb testing.TB, k *ecdsa.PrivateKey, kid, sub string) string {
	tb.Helper()
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Subject: sub, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	})
	t.Header["kid"] = kid
	s, err := t.SignedString(k)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
