package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// jwksAlgs are the algorithms a JWKS may serve keys for: the public-key
// ones notifyd accepts. Its keys change at run time, so they are allowed
// up front; each key still only verifies the algorithm of its type.
var jwksAlgs = []string{"RS256", "PS256", "ES256", "EdDSA"}

// readPublicKey reads a PEM file of a public key ("PUBLIC KEY", "RSA PUBLIC
// KEY" or a "CERTIFICATE") and returns it with the algorithms it verifies:
// RSA → RS256 and PS256, ECDSA P-256 → ES256, Ed25519 → EdDSA. RSA keys
// shorter than 2048 bits and private keys are refused.
func readPublicKey(path string) (jwt.VerificationKey, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %q: %w", path, errors.Unwrap(err))
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, nil, fmt.Errorf("%q holds no PEM block", path)
	}
	var key any
	switch {
	case block.Type == "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case block.Type == "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case block.Type == "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	case strings.Contains(block.Type, "PRIVATE KEY"):
		return nil, nil, fmt.Errorf("%q is a private key: give notifyd the public key only", path)
	default:
		return nil, nil, fmt.Errorf("%q: PEM block %q is not a public key", path, block.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%q: %w", path, err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, nil, fmt.Errorf("%q: RSA key of %d bits, at least 2048 needed", path, k.N.BitLen())
		}
		return k, []string{"RS256", "PS256"}, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, nil, fmt.Errorf("%q: ECDSA key on %s, only P-256 (ES256) is accepted", path, k.Curve.Params().Name)
		}
		return k, []string{"ES256"}, nil
	case ed25519.PublicKey:
		return k, []string{"EdDSA"}, nil
	}
	return nil, nil, fmt.Errorf("%q: unsupported key type %T (RSA, ECDSA P-256 or Ed25519)", path, key)
}
