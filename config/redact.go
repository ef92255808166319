package config

import (
	"log/slog"
	"net/url"
	"reflect"
	"strings"
)

// redacted replaces a secret in logged configuration.
const redacted = "REDACTED"

// Redacted returns c with secrets masked, for start-up logging: each API key
// and JWT HMAC secret becomes "REDACTED" (their number stays visible) and the password of a
// database URL, in the user info or a "password" query parameter, becomes
// "REDACTED". A database URL that does not parse is masked whole, since its
// password cannot be located.
func (c Config) Redacted() Config {
	c.Auth.APIKeys = redactAll(c.Auth.APIKeys)
	c.Auth.JWT.HMACSecrets = redactAll(c.Auth.JWT.HMACSecrets)
	c.Database.URL = redactURL(c.Database.URL)
	c.Cluster.ListenURL = redactURL(c.Cluster.ListenURL)
	if c.Cluster.Secret != "" {
		c.Cluster.Secret = redacted
	}
	c.Cluster.NATS = redactNATS(c.Cluster.NATS)
	return c
}

// redactAll masks every secret of a list, keeping their number visible.
func redactAll(secrets []string) []string {
	if secrets == nil {
		return nil
	}
	out := make([]string, len(secrets))
	for i := range out {
		out[i] = redacted
	}
	return out
}

// redactURL masks the password of a Postgres URL.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return redacted
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "password") {
			q[k] = []string{redacted}
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// LogValue implements slog.LogValuer, so that logging a Config, for example
// logger.Info("config", "config", cfg), prints one group per section of the
// Redacted values and can never leak a secret. Keys of a nested table keep
// their dotted name inside the section's group ("jwt.issuer").
func (c Config) LogValue() slog.Value {
	r := c.Redacted()
	var sections []slog.Attr
	var current string
	var attrs []slog.Attr
	flush := func() {
		if current != "" {
			sections = append(sections, slog.Attr{Key: current, Value: slog.GroupValue(attrs...)})
		}
	}
	for _, f := range fields(&r) {
		section, name, _ := strings.Cut(f.key, ".")
		if section != current {
			flush()
			current, attrs = section, nil
		}
		attrs = append(attrs, slog.Any(name, logValue(f.value)))
	}
	flush()
	return slog.GroupValue(sections...)
}

// logValue converts a field to a loggable value: durations as "10s".
func logValue(v reflect.Value) any {
	if isDuration(v.Type()) {
		return v.Interface().(Duration).D().String()
	}
	return v.Interface()
}
