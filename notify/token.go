package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TokenVerifier checks a signed token (a JWT) that the app's backend gave
// one of its users: its signature, algorithm and time claims. jwtauth
// implements it; the domain only needs its answer.
type TokenVerifier interface {
	// Verify returns the claims of a valid token, or an EUNAUTHORIZED
	// error whose message says why not ("token expired", "invalid
	// token"). It never waits on the network for more than a short bound.
	Verify(ctx context.Context, token string) (TokenClaims, error)
}

// TokenClaims are what notifyd uses of a verified token.
type TokenClaims struct {
	// Subject is "sub": the user's external id.
	Subject string
	// ExpiresAt is the last instant the token is accepted: its "exp" plus
	// the clock leeway (auth.jwt.leeway).
	ExpiresAt time.Time
}

// IsToken tells a token from a session secret in the same place
// (Authorization: Bearer, the socket's auth message): a JWT is three
// base64url parts joined by dots, a session secret is one part.
func IsToken(s string) bool {
	return strings.Count(s, ".") == 2
}

// errNoTokens is the answer to a token when auth.jwt configures no key.
func errNoTokens() error { return Errorf(EUNAUTHORIZED, "tokens are not configured") }

// VerifyToken checks a token and its subject, without touching the
// database: a socket's refresh needs no more.
func (a *Accounts) VerifyToken(ctx context.Context, token string) (TokenClaims, error) {
	if a.tokens == nil {
		return TokenClaims{}, errNoTokens()
	}
	claims, err := a.tokens.Verify(ctx, token)
	if err != nil {
		return TokenClaims{}, err
	}
	if err := ValidateExternalID("sub", claims.Subject); err != nil {
		return TokenClaims{}, Errorf(EUNAUTHORIZED, "invalid token: %s", ErrorMessage(err))
	}
	return claims, nil
}

// AuthenticateToken resolves a token to its external user, creating the
// user on first sight: the app's backend vouches for it by signing. It
// returns the last instant the token is accepted. A token never resolves
// to a self-signup account: the namespaces are separate.
func (a *Accounts) AuthenticateToken(ctx context.Context, token string) (User, time.Time, error) {
	claims, err := a.VerifyToken(ctx, token)
	if err != nil {
		return User{}, time.Time{}, err
	}
	// Read first: every request and socket of a token user comes here, and
	// the insert of EnsureExternalUser is a write (SQLite's one write lock;
	// a Postgres sequence value spent per call even when the user exists).
	u, err := a.store.UserByExternalID(ctx, claims.Subject)
	if ErrorCode(err) == ENOTFOUND {
		u, _, err = a.store.EnsureExternalUser(ctx, claims.Subject, nil, a.now())
	}
	if err != nil {
		return User{}, time.Time{}, fmt.Errorf("notify: token user: %w", err)
	}
	a.external.learnUser(u)
	return u, claims.ExpiresAt, nil
}
