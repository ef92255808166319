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
// becomes "REDACTED" (their number stays visible) and the password of a
// database URL, in the user info or a "password" query parameter, becomes
// "REDACTED". A database URL that does not parse is masked whole, since its
// password cannot be located.
func (c Config) Redacted() Config {
	if c.Auth.APIKeys != nil {
		keys := make([]string, len(c.Auth.APIKeys))
		for i := range keys {
			keys[i] = redacted
		}
		c.Auth.APIKeys = keys
	}
	c.Database.URL = redactURL(c.Database.URL)
	c.Cluster.ListenURL = redactURL(c.Cluster.ListenURL)
	return c
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
// Redacted values and can never leak a secret.
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
