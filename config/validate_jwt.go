package config

import "strings"

// MinHMACSecretBytes is the shortest auth.jwt.hmac_secrets entry: an HS256
// key shorter than the hash (32 bytes) weakens it (RFC 7518 §3.2), and a
// short one can be guessed offline from any token.
const MinHMACSecretBytes = 32

// jwt checks [auth.jwt]. The public key files are read and parsed at
// start-up by jwtauth, whose errors name the key too.
func (v *validator) jwt(c JWT) {
	for i, s := range c.HMACSecrets {
		// Never print the secret, not even in part.
		if len(s) < MinHMACSecretBytes {
			v.add(index("auth.jwt.hmac_secrets", i), "must be at least %d bytes, got %d (secret not shown)", MinHMACSecretBytes, len(s))
		}
	}
	for i, p := range c.PublicKeys {
		if strings.TrimSpace(p) == "" {
			v.add(index("auth.jwt.public_keys", i), "must be the path of a PEM file, got an empty string")
		}
	}
	if c.JWKSURL != "" {
		v.publicURL("auth.jwt.jwks_url", c.JWKSURL, "https", "http")
	}
	v.positive("auth.jwt.jwks_min_refresh", c.JWKSMinRefresh)
	v.positive("auth.jwt.jwks_max_wait", c.JWKSMaxWait)
	v.notNegative("auth.jwt.leeway", c.Leeway)
}
