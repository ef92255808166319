package httpserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/notifyd/notifyd/notify"
)

// checkCredentials is the spec's AuthenticationFunc: the request carries
// the credential the scheme describes. It does not check that the
// credential is valid: the server does, and only accepted requests are
// checked here.
func checkCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	scheme := in.SecurityScheme
	switch {
	case scheme.Type == "apiKey" && scheme.In == "cookie":
		if r.Header.Get("Authorization") != "" {
			return in.NewError(errors.New("an Authorization header wins over the cookie"))
		}
		if ck, err := r.Cookie(scheme.Name); err != nil || ck.Value == "" {
			return in.NewError(fmt.Errorf("no %s cookie", scheme.Name))
		}
		return nil
	case scheme.Type == "http" && strings.EqualFold(scheme.Scheme, "bearer"):
		secret, ok := bearerToken(r)
		if !ok {
			return in.NewError(errors.New("no Authorization: Bearer"))
		}
		switch scheme.BearerFormat {
		case "JWT":
			if !notify.IsToken(secret) {
				return in.NewError(errors.New("the bearer value is not a token"))
			}
		case "session secret":
			if notify.IsToken(secret) {
				return in.NewError(errors.New("the bearer value is a token, not a session secret"))
			}
		}
		return nil
	}
	return in.NewError(fmt.Errorf("security scheme %q: unknown kind", in.SecuritySchemeName))
}
