package jwtauth

import (
	"context"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"

	"github.com/notifyd/notifyd/config"
)

// Timings of the JWKS cache.
const (
	// jwksRefreshInterval is how often the JWKS is fetched again in the
	// background, so that a removed key stops working.
	jwksRefreshInterval = time.Hour
	// jwksFetchTimeout bounds the first fetch (start-up waits for it) and
	// each background fetch.
	jwksFetchTimeout = 5 * time.Second
)

// newJWKS fetches the JWKS at cfg.JWKSURL and keeps it cached. A token
// whose "kid" is not in the cache refreshes it, at most once per
// auth.jwt.jwks_min_refresh (a rate limiter of one token); a refresh that
// fails keeps the keys of the last good one. Every failed fetch is logged
// and counted (notifyd_jwks_refresh_errors_total). The URL is not logged:
// it may carry a secret in its query.
func newJWKS(ctx context.Context, cfg config.JWT, opts Options) (keyfunc.Keyfunc, error) {
	logger, metrics := opts.Logger, opts.Metrics
	onError := func(string) func(context.Context, error) {
		return func(_ context.Context, err error) {
			metrics.JWKSRefreshError()
			logger.Warn("jwtauth: JWKS fetch failed; keeping the last good keys", "key", "auth.jwt.jwks_url", "error", err)
		}
	}
	return keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:                  &http.Client{Timeout: jwksFetchTimeout},
		HTTPTimeout:             jwksFetchTimeout,
		RefreshInterval:         jwksRefreshInterval,
		RefreshErrorHandlerFunc: onError,
		RefreshUnknownKID:       rate.NewLimiter(rate.Every(cfg.JWKSMinRefresh.D()), 1),
		// A token never waits for the limiter longer than the verification
		// bound: the wait fails at once when the next refresh is further.
		RateLimitWaitMax: cfg.JWKSMaxWait.D(),
	})
}
