package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"strings"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/store"
)

// usageError is a bad command line or configuration: main exits with 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

const usage = `usage: notifyd [-config PATH] [serve|migrate|healthcheck|token]

  serve        run the HTTP API and the websocket listener (default)
  migrate      apply database migrations and exit
  healthcheck  exit 0 if the local instance's /readyz answers 200 (for
               container health checks: the image has no shell or curl)
  token -sub EXTERNAL_ID [-ttl 1h]
               print an HS256 token for that user, signed with the first
               auth.jwt.hmac_secrets entry (for curl and tests)

Configuration: defaults, then config.toml (or -config PATH), then NOTIFYD_*
environment variables. See config.toml for every key.`

// run is the whole program: it returns when ctx is cancelled (after a
// graceful shutdown) or when something fails. It never calls os.Exit.
// environ is the process environment ("KEY=value", os.Environ): config.Load
// reads the NOTIFYD_* variables from it and refuses unknown ones.
func run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notifyd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	configPath := fs.String("config", "", "configuration file (default ./config.toml if present)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	cmd, rest := "serve", []string(nil)
	if fs.NArg() > 0 {
		cmd, rest = fs.Arg(0), fs.Args()[1:]
	}
	if len(rest) > 0 && cmd != "token" {
		return usageError{fmt.Errorf("too many arguments: %q", fs.Args())}
	}

	path, explicit := *configPath, *configPath != ""
	if !explicit {
		path = "config.toml"
	}
	cfg, err := config.Load(path, explicit, environ)
	if err != nil {
		return usageError{err}
	}
	logger, err := newLogger(cfg.Log, stdout)
	if err != nil {
		return usageError{err}
	}

	switch cmd {
	case "serve":
		// Config.LogValue masks API keys and database passwords.
		logger.Info("configuration", "config", cfg)
		if len(cfg.Auth.APIKeys) == 0 {
			logger.Warn("publisher API disabled: no auth.api_keys configured; every /api/publisher call answers 401. " +
				"Set one with NOTIFYD_AUTH_API_KEYS=$(openssl rand -hex 32)")
		}
		defer tuneGC(cfg.Runtime, environ, logger)()
		return serve(ctx, cfg, logger)
	case "migrate":
		if err := store.Migrate(ctx, cfg.Database, logger); err != nil {
			return err
		}
		logger.Info("migrations applied")
		return nil
	case "healthcheck":
		return healthcheck(ctx, cfg.HTTP.Addr)
	case "token":
		return tokenCommand(rest, cfg.Auth.JWT, stdout, stderr, time.Now())
	default:
		return usageError{fmt.Errorf("unknown command %q\n%s", cmd, usage)}
	}
}

func newLogger(cfg config.Log, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(cfg.Format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log.format: must be text or json, got %q", cfg.Format)
}

// listenMetrics listens on metrics.addr, or returns nil when it is ""
// (no metrics listener).
func listenMetrics(cfg config.Metrics) (net.Listener, error) {
	if cfg.Addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.addr: %w", err)
	}
	return ln, nil
}

// addrOf is the address of ln for the logs, "" without a listener.
func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// serverTimeouts are the connection limits of one listener's http.Server;
// 0 is none.
type serverTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// httpTimeouts are the API's (and the metrics listener's). The write
// timeout bounds writing each response: without it a client that
// pipelines requests and never reads keeps its connection, and the kernel
// buffers behind it, past every other timeout.
func httpTimeouts(cfg config.HTTP) serverTimeouts {
	return serverTimeouts{readHeader: cfg.ReadHeaderTimeout.D(), read: cfg.ReadTimeout.D(),
		write: cfg.WriteTimeout.D(), idle: cfg.IdleTimeout.D()}
}

// wsTimeouts are the websocket listener's: its one HTTP request is the
// upgrade, bounded by ws.handshake_timeout. No write timeout: it would cut
// open sockets, and each socket write has ws.write_timeout.
func wsTimeouts(cfg config.WS) serverTimeouts {
	t := cfg.HandshakeTimeout.D()
	return serverTimeouts{readHeader: t, read: t, idle: t}
}

// newHTTPServer returns a server of h with the timeouts t.
func newHTTPServer(h http.Handler, t serverTimeouts, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func serveHTTP(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
