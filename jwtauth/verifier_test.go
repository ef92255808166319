package jwtauth_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
	"github.com/notifyd/notifyd/notify"
)

// TestVerifyAlgorithms: each configured key kind verifies its algorithms,
// and every algorithm a key does not allow is refused: none, HS256 signed
// with a public key's PEM bytes, an algorithm no key is configured for, a
// key that is not configured.
func TestVerifyAlgorithms(t *testing.T) {
	keys := newKeys(t)
	rsaPath, rsaPEM := writePEM(t, &keys.rsa.PublicKey)
	ecPath, ecPEM := writePEM(t, &keys.ec.PublicKey)
	edPath, _ := writePEM(t, keys.ed.Public())
	all := newVerifier(t, config.JWT{HMACSecrets: []string{secretA, secretB}, PublicKeys: []string{rsaPath, ecPath, edPath}}, jwtauth.Options{})
	pemOnly := newVerifier(t, config.JWT{PublicKeys: []string{rsaPath, ecPath}}, jwtauth.Options{})
	hmacOnly := newVerifier(t, config.JWT{HMACSecrets: []string{secretA}}, jwtauth.Options{})
	c := claims("user-1")
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c, nil)

	tests := []struct {
		name  string
		v     *jwtauth.Verifier
		token string
		ok    bool
	}{
		{"HS256", all, sign(t, jwt.SigningMethodHS256, []byte(secretA), c, nil), true},
		{"HS384", all, sign(t, jwt.SigningMethodHS384, []byte(secretA), c, nil), true},
		{"HS512 with the second secret (rotation)", all, sign(t, jwt.SigningMethodHS512, []byte(secretB), c, nil), true},
		{"RS256", all, sign(t, jwt.SigningMethodRS256, keys.rsa, c, nil), true},
		{"PS256", all, sign(t, jwt.SigningMethodPS256, keys.rsa, c, nil), true},
		{"ES256", all, sign(t, jwt.SigningMethodES256, keys.ec, c, nil), true},
		{"EdDSA", all, sign(t, jwt.SigningMethodEdDSA, keys.ed, c, nil), true},

		{"none", all, none, false},
		{"none, public keys only", pemOnly, none, false},
		{"HS256 signed with the RSA PEM", pemOnly, sign(t, jwt.SigningMethodHS256, rsaPEM, c, nil), false},
		{"HS256 signed with the EC PEM", pemOnly, sign(t, jwt.SigningMethodHS256, ecPEM, c, nil), false},
		{"HS256 signed with the RSA PEM, HMAC also configured", all, sign(t, jwt.SigningMethodHS256, rsaPEM, c, nil), false},
		{"RS256 without a public key", hmacOnly, sign(t, jwt.SigningMethodRS256, keys.rsa, c, nil), false},
		{"EdDSA without an Ed25519 key", pemOnly, sign(t, jwt.SigningMethodEdDSA, keys.ed, c, nil), false},
		{"RS512: not an accepted algorithm", all, sign(t, jwt.SigningMethodRS512, keys.rsa, c, nil), false},
		{"ES256 with a key not configured", all, sign(t, jwt.SigningMethodES256, newEC(t), c, nil), false},
		{"HS256 with a secret not configured", all, sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), c, nil), false},
		{"garbage", all, "a.b.c", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Verify(context.Background(), tt.token)
			if !tt.ok {
				wantRefused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != "user-1" {
				t.Fatalf("Subject = %q", got.Subject)
			}
		})
	}
}

// TestVerifyClaims: exp is required and, like nbf and iat, checked with
// the leeway; iss and aud are checked when configured. ExpiresAt is exp
// plus the leeway.
func TestVerifyClaims(t *testing.T) {
	leeway := time.Minute
	plain := newVerifier(t, config.JWT{HMACSecrets: []string{secretA}, Leeway: config.Duration(leeway)}, jwtauth.Options{})
	strict := newVerifier(t, config.JWT{HMACSecrets: []string{secretA}, Leeway: config.Duration(leeway),
		Issuer: "https://app.example", Audience: "notifyd"}, jwtauth.Options{})
	now := time.Now()
	with := func(kv ...any) jwt.MapClaims {
		c := claims("user-1")
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
				continue
			}
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	ago := func(d time.Duration) int64 { return now.Add(-d).Unix() }
	tests := []struct {
		name    string
		v       *jwtauth.Verifier
		c       jwt.MapClaims
		ok      bool
		message string
	}{
		{"valid", plain, with(), true, ""},
		{"no exp", plain, with("exp", nil), false, ""},
		{"expired", plain, with("exp", ago(2*leeway)), false, "token expired"},
		{"expired within the leeway", plain, with("exp", ago(leeway/2)), true, ""},
		{"nbf in the future", plain, with("nbf", ago(-2*leeway)), false, ""},
		{"nbf within the leeway", plain, with("nbf", ago(-leeway/2)), true, ""},
		{"iat in the future", plain, with("iat", ago(-2*leeway)), false, ""},
		{"iat within the leeway", plain, with("iat", ago(-leeway/2)), true, ""},
		{"iss and aud not checked when not configured", plain, with("iss", "other", "aud", "other"), true, ""},
		{"iss and aud right", strict, with("iss", "https://app.example", "aud", "notifyd"), true, ""},
		{"aud in a list", strict, with("iss", "https://app.example", "aud", []string{"x", "notifyd"}), true, ""},
		{"iss wrong", strict, with("iss", "https://evil.example", "aud", "notifyd"), false, ""},
		{"iss missing", strict, with("aud", "notifyd"), false, ""},
		{"aud wrong", strict, with("iss", "https://app.example", "aud", "other"), false, ""},
		{"aud missing", strict, with("iss", "https://app.example"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, []byte(secretA), tt.c, nil))
			if !tt.ok {
				wantRefused(t, err)
				if tt.message != "" && notify.ErrorMessage(err) != tt.message {
					t.Fatalf("message %q, want %q", notify.ErrorMessage(err), tt.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			exp := time.Unix(tt.c["exp"].(int64), 0)
			if want := exp.Add(leeway); !got.ExpiresAt.Equal(want) {
				t.Fatalf("ExpiresAt = %v, want exp+leeway %v", got.ExpiresAt, want)
			}
		})
	}
}

// TestNewRefusesBadKeys: a public key file that cannot be used stops
// start-up with an error naming the key.
func TestNewRefusesBadKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := writePEM(t, newEd(t).Public())
	tests := map[string]string{
		"missing file": dir + "/nope.pem",
		"not PEM":      write("junk.pem", "hello"),
		"private key":  write("priv.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		"bad DER":      write("bad.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
	}
	for name, path := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := jwtauth.New(context.Background(), config.JWT{PublicKeys: []string{good, path}, JWKSMaxWait: config.Duration(time.Second)}, jwtauth.Options{})
			var ke *config.KeyError
			if !errors.As(err, &ke) || ke.Key != "auth.jwt.public_keys[1]" {
				t.Fatalf("err = %v, want a KeyError naming auth.jwt.public_keys[1]", err)
			}
		})
	}
}
