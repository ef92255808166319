package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
)

// secretA and secretB are HMAC secrets of 32 bytes.
const (
	secretA = "0123456789abcdef0123456789abcdef"
	secretB = "fedcba9876543210fedcba9876543210"
)

// claims returns valid claims for sub, expiring in an hour.
func claims(sub string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// sign signs c with method and key, failing the test on error.
func sign(tb testing.TB, method jwt.SigningMethod, key any, c jwt.MapClaims, header map[string]any) string {
	tb.Helper()
	t := jwt.NewWithClaims(method, c)
	for k, v := range header {
		t.Header[k] = v
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

// writePEM writes the public half of key as a "PUBLIC KEY" PEM file and
// returns its path and bytes.
func writePEM(tb testing.TB, pub any) (string, []byte) {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	path := filepath.Join(tb.TempDir(), "key.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, data
}

// testKeys are one private key of each accepted kind.
type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

func newKeys(tb testing.TB) testKeys {
	tb.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return testKeys{rsa: r, ec: newEC(tb), ed: newEd(tb)}
}

func newEC(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	return jwtauthtest.ECKey(tb)
}

func newEd(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// newVerifier builds a Verifier over cfg, with config.Default's JWKS
// refresh and wait bounds unless cfg sets them, failing the test on
// error.
func newVerifier(tb testing.TB, cfg config.JWT, opts jwtauth.Options) *jwtauth.Verifier {
	tb.Helper()
	if cfg.JWKSMinRefresh == 0 {
		cfg.JWKSMinRefresh = config.Default().Auth.JWT.JWKSMinRefresh
	}
	if cfg.JWKSMaxWait == 0 {
		cfg.JWKSMaxWait = config.Default().Auth.JWT.JWKSMaxWait
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	v, err := jwtauth.New(ctx, cfg, opts)
	if err != nil {
		tb.Fatalf("jwtauth.New: %v", err)
	}
	return v
}

// wantRefused checks that err is EUNAUTHORIZED.
func wantRefused(tb testing.TB, err error) {
	tb.Helper()
	if code := notify.ErrorCode(err); code != notify.EUNAUTHORIZED {
		tb.Fatalf("err = %v (code %q), want %q", err, code, notify.EUNAUTHORIZED)
	}
}
