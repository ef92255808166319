package natsbroker

import (
	"errors"
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

// redactError keeps nats.go's sentinel errors, whose text holds no URL,
// and hides anything else.
func redactError(err error) string {
	for _, known := range []error{nats.ErrNoServers, nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrTimeout, nats.ErrSecureConnRequired} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "cannot connect (details hidden: the URL may hold credentials)"
}

// handlers follow the connection's state: a loss makes Ready count the
// time down, a (re)connection asks Run for a resync, a slow consumer too.
func (b *Bus) handlers() []nats.Option {
	up := func(*nats.Conn) {
		b.setDown(false)
		b.requestResync()
	}
	return []nats.Option{
		nats.ConnectHandler(up),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.metrics.reconnects.Inc()
			b.logger.Info("natsbroker: reconnected", "server", nc.ConnectedUrlRedacted())
			up(nc)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.setDown(true)
			if err != nil {
				b.logger.Warn("natsbroker: disconnected", "error", err)
			}
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			b.logReconnectError(err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { b.closeDone() }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.logger.Warn("natsbroker: receive queue full; messages dropped, resyncing")
				b.requestResync()
				return
			}
			b.logger.Warn("natsbroker: error", "error", err)
		}),
	}
}

func (b *Bus) setDown(down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !down:
		b.downSince = time.Time{}
		b.lastReconnectErr, b.dropping = "", false
	case b.downSince.IsZero():
		b.downSince = b.now()
	}
}

// logReconnectError logs a failed (re)connection attempt once per distinct
// error until the connection is up again: attempts come every
// ReconnectWait.
func (b *Bus) logReconnectError(err error) {
	b.mu.Lock()
	repeated := err.Error() == b.lastReconnectErr
	b.lastReconnectErr = err.Error()
	b.mu.Unlock()
	if !repeated {
		b.logger.Warn("natsbroker: cannot connect; retrying", "error", err, "retry_every", b.cfg.NATS.ReconnectWait.D())
	}
}

func (b *Bus) requestResync() {
	select {
	case b.resync <- struct{}{}:
	default: // one is already due
	}
}
