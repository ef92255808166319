package config_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/config"
)

func TestRedacted(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"empty", "", ""},
		{"no password", "postgres://postgres@127.0.0.1:5432/notifyd?sslmode=disable", "postgres://postgres@127.0.0.1:5432/notifyd?sslmode=disable"},
		{"password", "postgres://notifyd:s3cret@db:5432/notifyd", "postgres://notifyd:REDACTED@db:5432/notifyd"},
		{"password in query", "postgresql://db/notifyd?user=n&password=s3cret", "postgresql://db/notifyd?password=REDACTED&user=n"},
		{"unparseable", "postgres://n:s3cret@db:bad/x", "REDACTED"},
		{"not a URL", "host=db password=s3cret", "REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			c.Database.URL = tt.url
			c.Cluster.ListenURL = tt.url
			r := c.Redacted()
			if r.Database.URL != tt.want || r.Cluster.ListenURL != tt.want {
				t.Errorf("database.url %q, cluster.listen_url %q; want %q", r.Database.URL, r.Cluster.ListenURL, tt.want)
			}
			if c.Database.URL != tt.url {
				t.Error("Redacted modified its receiver")
			}
		})
	}
}

func TestRedactedAPIKeys(t *testing.T) {
	c := config.Default()
	c.Auth.APIKeys = []string{testKey1, testKey2}
	r := c.Redacted()
	if len(r.Auth.APIKeys) != 2 || r.Auth.APIKeys[0] != "REDACTED" || r.Auth.APIKeys[1] != "REDACTED" {
		t.Errorf("api_keys = %q, want two REDACTED", r.Auth.APIKeys)
	}
	if c.Auth.APIKeys[0] != testKey1 {
		t.Error("Redacted modified its receiver's keys")
	}
	if r := config.Default().Redacted(); r.Auth.APIKeys != nil {
		t.Errorf("no keys: api_keys = %q, want nil", r.Auth.APIKeys)
	}
}

func TestLogValue(t *testing.T) {
	c := config.Default()
	c.Auth.APIKeys = []string{testKey1}
	c.Database.URL = "postgres://notifyd:s3cret@db:5432/notifyd"
	c.Cluster.Broker, c.Cluster.Secret = "postgres", testClusterSecret
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("starting", "config", c)
		out := buf.String()
		for _, secret := range []string{"0123456789abcdef", "s3cret", testClusterSecret[:12]} {
			if strings.Contains(out, secret) {
				t.Errorf("log leaks %q: %s", secret, out)
			}
		}
		for _, want := range []string{"REDACTED", "shutdown_timeout", "10s", "send_queue", "256", "notifyd:REDACTED@db"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q: %s", want, out)
			}
		}
	}
}
