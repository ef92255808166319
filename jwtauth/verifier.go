// Package jwtauth verifies the tokens (JWT) an app's backend signs for its
// users, with the keys of the [auth.jwt] section: HMAC secrets, PEM public
// keys and a JWKS URL. It implements notify.TokenVerifier. The parsing and
// the cryptography are golang-jwt's; the JWKS cache is keyfunc's.
package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
)

// Verifier checks tokens against the configured keys. It is safe for
// concurrent use.
type Verifier struct {
	hmac    jwt.VerificationKeySet // auth.jwt.hmac_secrets: HS256/384/512 only
	public  []jwt.VerificationKey  // auth.jwt.public_keys
	jwks    keyfunc.Keyfunc        // auth.jwt.jwks_url; nil when unset
	parser  *jwt.Parser
	leeway  time.Duration // auth.jwt.leeway, added to exp in TokenClaims
	maxWait time.Duration // auth.jwt.jwks_max_wait: a socket or request never waits longer
}

// Configured reports whether cfg names any key: without one, tokens are
// refused and no Verifier is built.
func Configured(cfg config.JWT) bool {
	return len(cfg.HMACSecrets) > 0 || len(cfg.PublicKeys) > 0 || cfg.JWKSURL != ""
}

// Options are the collaborators of New.
type Options struct {
	Logger  *slog.Logger     // nil: discard
	Metrics *metrics.Metrics // counts JWKS fetch failures; nil: none
}

// New reads the keys of cfg: the PEM files are read and parsed now (an
// error names the key), and the JWKS is fetched once before New returns.
// An unreachable JWKS is logged and counted, not fatal: tokens that need
// it are refused until a later fetch succeeds. ctx ends the JWKS's
// periodic refresh.
func New(ctx context.Context, cfg config.JWT, opts Options) (*Verifier, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.JWKSMaxWait <= 0 {
		// A zero bound would refuse every token at once.
		return nil, &config.KeyError{Key: "auth.jwt.jwks_max_wait", Reason: "must be a positive duration"}
	}
	v := &Verifier{maxWait: cfg.JWKSMaxWait.D()}
	var algs []string
	for _, s := range cfg.HMACSecrets {
		v.hmac.Keys = append(v.hmac.Keys, []byte(s))
	}
	if len(v.hmac.Keys) > 0 {
		algs = append(algs, "HS256", "HS384", "HS512")
	}
	for i, path := range cfg.PublicKeys {
		key, keyAlgs, err := readPublicKey(path)
		if err != nil {
			return nil, &config.KeyError{Key: fmt.Sprintf("auth.jwt.public_keys[%d]", i), Reason: err.Error()}
		}
		v.public = append(v.public, key)
		algs = appendNew(algs, keyAlgs...)
	}
	if cfg.JWKSURL != "" {
		k, err := newJWKS(ctx, cfg, opts)
		if err != nil {
			// keyfunc's error quotes the URL, which may hold a secret.
			return nil, &config.KeyError{Key: "auth.jwt.jwks_url", Reason: "not a usable URL (value not shown)"}
		}
		v.jwks = k
		algs = appendNew(algs, jwksAlgs...)
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway.D()),
	}
	if cfg.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		popts = append(popts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(popts...)
	v.leeway = cfg.Leeway.D()
	return v, nil
}

// appendNew appends what list does not hold yet.
func appendNew(list []string, more ...string) []string {
	for _, s := range more {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// Verify implements notify.TokenVerifier. The token is never logged.
func (v *Verifier) Verify(ctx context.Context, token string) (notify.TokenClaims, error) {
	ctx, cancel := context.WithTimeout(ctx, v.maxWait)
	defer cancel()
	var claims jwt.RegisteredClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.keyfunc(ctx)); err != nil {
		return notify.TokenClaims{}, refusal(err)
	}
	// WithExpirationRequired made exp present.
	return notify.TokenClaims{Subject: claims.Subject, ExpiresAt: claims.ExpiresAt.Add(v.leeway)}, nil
}

// keyfunc gives the keys a token's algorithm may be checked with. The
// parser has already refused an algorithm that no configured key allows
// (none included). An HMAC token gets only the HMAC secrets, never a
// public key's bytes, and a public-key token only public keys: golang-jwt
// checks each key's type against the algorithm, so a key of another kind
// never verifies.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
			if len(v.hmac.Keys) == 0 {
				return nil, errors.New("jwtauth: no HMAC secret")
			}
			return v.hmac, nil
		}
		// Clipped: appending the JWKS's keys copies, never writes into
		// v.public's array, which concurrent calls share.
		keys := jwt.VerificationKeySet{Keys: slices.Clip(v.public)}
		if v.jwks != nil {
			// An unknown kid fails here after at most one refresh; the
			// PEM keys may still verify the token.
			k, err := v.jwks.KeyfuncCtx(ctx)(t)
			switch set, isSet := k.(jwt.VerificationKeySet); {
			case err != nil && len(keys.Keys) == 0:
				return nil, err
			case err != nil:
			case isSet:
				keys.Keys = append(keys.Keys, set.Keys...)
			default:
				keys.Keys = append(keys.Keys, k)
			}
		}
		if len(keys.Keys) == 0 {
			return nil, errors.New("jwtauth: no public key")
		}
		return keys, nil
	}
}

// refusal turns a golang-jwt error into the client's answer. The reasons
// a client can act on are named; the rest is "invalid token".
func refusal(err error) error {
	msg := "invalid token"
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		msg = "token expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		msg = "invalid token: a required claim is missing (exp; iss and aud when configured)"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		msg = "token not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		msg = "token issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		msg = "invalid token: iss not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		msg = "invalid token: aud not accepted"
	}
	return notify.Errorf(notify.EUNAUTHORIZED, "%s", msg)
}
