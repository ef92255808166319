package natsbroker

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/notifyd/notifyd/config"
)

// Connection tunables. nats.go's own defaults suit a client that may wait:
// a connection that died without a word would be noticed after two 2-minute
// pings, and a server would be retried every 2 s.
const (
	// pingInterval and maxPingsOut notice a dead connection within about
	// 15 s, after which its messages count as missed (resync).
	pingInterval = 5 * time.Second
	maxPingsOut  = 2
	// DefaultReconnectWait is the pause between reconnect attempts to one
	// server (nats.go adds jitter).
	DefaultReconnectWait = 500 * time.Millisecond
	// connectTimeout bounds one dial and handshake.
	connectTimeout = 2 * time.Second
)

// options translates [cluster.nats] into nats.go options. Files are read
// here, so a missing or unreadable one stops start-up with an error that
// names its key; nats.go reads the creds file again on each connect, so a
// rotated file is picked up.
func options(c config.NATS) ([]nats.Option, error) {
	var opts []nats.Option
	const p = "cluster.nats."
	for _, f := range []struct{ key, path string }{
		{"creds_file", c.CredsFile}, {"tls_ca_file", c.TLSCAFile},
		{"tls_cert_file", c.TLSCertFile}, {"tls_key_file", c.TLSKeyFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return nil, fmt.Errorf("natsbroker: %s%s: %w", p, f.key, err)
		}
	}
	switch {
	case c.CredsFile != "":
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.NkeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NkeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("natsbroker: %snkey_seed_file: %w", p, err)
		}
		opts = append(opts, o)
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	}
	if c.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLSCAFile))
	}
	if c.TLSCertFile != "" {
		opts = append(opts, nats.ClientCert(c.TLSCertFile, c.TLSKeyFile))
	}
	return opts, nil
}
