package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth"
	"github.com/notifyd/notifyd/notify"
)

const tokenUsage = `usage: notifyd [-config PATH] token -sub EXTERNAL_ID [-ttl 1h]

Prints an HS256 token for the user EXTERNAL_ID, signed with the first of
auth.jwt.hmac_secrets, with "iss" and "aud" from auth.jwt.issuer and
auth.jwt.audience when they are set: what an app's backend signs, for curl
and tests.`

// tokenCommand is `notifyd token`. A bad flag and a missing secret are
// usage errors (exit 2). The secret is never printed.
func tokenCommand(args []string, cfg config.JWT, stdout, stderr io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("notifyd token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, tokenUsage) }
	sub := fs.String("sub", "", "the user's external id (required)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime of the token")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("token: unexpected arguments %q\n%s", fs.Args(), tokenUsage)}
	}
	if err := notify.ValidateExternalID("-sub", *sub); err != nil {
		return usageError{errors.New(notify.ErrorMessage(err))}
	}
	if *ttl <= 0 {
		return usageError{fmt.Errorf("-ttl: must be a positive duration such as 1h, got %s", *ttl)}
	}
	if len(cfg.HMACSecrets) == 0 {
		return usageError{errors.New("token: auth.jwt.hmac_secrets is empty: set NOTIFYD_AUTH_JWT_HMAC_SECRETS (at least 32 bytes) to sign tokens")}
	}
	tok, err := jwtauth.SignHS256([]byte(cfg.HMACSecrets[0]), jwtauth.SignRequest{
		Subject: *sub, TTL: *ttl, Issuer: cfg.Issuer, Audience: cfg.Audience, Now: now,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
