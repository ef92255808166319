package config_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/config"
)

// TestNATSSecretsNeverShown: a password or token, in its key or in the URL,
// appears neither in validation errors nor in the logged configuration.
func TestNATSSecretsNeverShown(t *testing.T) {
	c := config.Default()
	c.Cluster.NATS.URL = "nats://notifyd:pa55word@a:4222,nats://t0ken@b:4222,ftp://x:pa55word@c"
	c.Cluster.NATS.User, c.Cluster.NATS.Password = "notifyd", "pa55word"
	c.Cluster.NATS.Token = "t0ken"
	err := c.Validate()
	wantKeys(t, err, "cluster.nats.url[2]", "cluster.nats.creds_file")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	for _, out := range []string{err.Error(), buf.String()} {
		for _, secret := range []string{"pa55word", "t0ken"} {
			if strings.Contains(out, secret) {
				t.Errorf("leaks %q: %s", secret, out)
			}
		}
	}
	r := c.Redacted().Cluster.NATS
	const wantURL = "nats://notifyd:REDACTED@a:4222,nats://REDACTED@b:4222,ftp://x:REDACTED@c"
	if r.URL != wantURL || r.Password != "REDACTED" || r.Token != "REDACTED" || r.User != "notifyd" {
		t.Errorf("redacted = %+v, want url %q and password, token REDACTED", r, wantURL)
	}
	if c.Cluster.NATS.Password != "pa55word" {
		t.Error("Redacted modified its receiver")
	}
	if r := config.Default().Redacted().Cluster.NATS; r.URL != config.DefaultNATSURL || r.Password != "" {
		t.Errorf("no secrets: redacted = %+v, want the defaults", r)
	}
}

// TestNATSFromFile: the [cluster.nats] table loads from the file, and an
// unknown key in it is named with its table.
func TestNATSFromFile(t *testing.T) {
	c, err := config.Load(writeFile(t, "[cluster.nats]\nurl = \"tls://n:4222\"\ncreds_file = \"/n.creds\"\n"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster.NATS.URL != "tls://n:4222" || c.Cluster.NATS.CredsFile != "/n.creds" || c.Cluster.NATS.SubjectPrefix != "notifyd" {
		t.Errorf("nats = %+v", c.Cluster.NATS)
	}
	_, err = config.Load(writeFile(t, "[cluster.nats]\nurls = \"nats://n\"\n"), true, nil)
	wantKeys(t, err, "cluster.nats.urls")
}
