package main

import (
	"context"
	"log/slog"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
)

// newTokens builds the verifier of the app's tokens from [auth.jwt]; nil
// when no key is configured (tokens are then refused). A public key file
// that cannot be used is a configuration error (exit 2) naming the key.
// ctx ends the JWKS's background refresh.
func newTokens(ctx context.Context, cfg config.JWT, logger *slog.Logger, m *metrics.Metrics) (notify.TokenVerifier, error) {
	if !jwtauth.Configured(cfg) {
		return nil, nil
	}
	v, err := jwtauth.New(ctx, cfg, jwtauth.Options{Logger: logger, Metrics: m})
	if err != nil {
		return nil, usageError{err}
	}
	return v, nil
}
