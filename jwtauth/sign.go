package jwtauth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SignRequest is what `notifyd token` puts in a token.
type SignRequest struct {
	Subject  string        // "sub": the user's external id
	TTL      time.Duration // "exp" is Now + TTL
	Issuer   string        // "iss"; "" leaves it out
	Audience string        // "aud"; "" leaves it out
	Now      time.Time     // "iat"
}

// SignHS256 returns an HS256 token signed with secret: what an app's
// backend does, for curl, tests and the README.
func SignHS256(secret []byte, r SignRequest) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("jwtauth: no secret")
	}
	claims := jwt.RegisteredClaims{
		Subject:   r.Subject,
		Issuer:    r.Issuer,
		IssuedAt:  jwt.NewNumericDate(r.Now),
		ExpiresAt: jwt.NewNumericDate(r.Now.Add(r.TTL)),
	}
	if r.Audience != "" {
		claims.Audience = jwt.ClaimStrings{r.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
