package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/httpserver"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/wsserver"
)

// daemon is what serve builds, field by field in the order start builds
// it. stop takes it down in the one order that loses nothing; a field
// still nil (a start that failed half way) is skipped there.
type daemon struct {
	cfg    config.Config
	logger *slog.Logger

	httpLn, wsLn, metricsLn net.Listener
	st                      *store.Store
	reg                     *prometheus.Registry
	metrics                 *metrics.Metrics
	hub                     *notify.Hub
	broker                  notify.Broker
	closeBroker             func()
	svc                     *notify.Service
	tasks                   *notify.Tasks
	ws                      *wsserver.Server
	httpSrv, wsSrv          *http.Server
	metricsSrv              *http.Server
}

// serve runs both listeners (and the metrics listener) until ctx is done
// or one of them fails, then stops the process in order (stop).
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	d := &daemon{cfg: cfg, logger: logger}
	if err := d.start(ctx); err != nil {
		d.stop(nil)
		return err
	}
	logger.Info("listening",
		"http_addr", d.httpLn.Addr().String(), "ws_addr", d.wsLn.Addr().String(),
		"metrics_addr", addrOf(d.metricsLn),
		"database", d.st.Dialect(), "ws_public_url", cfg.WS.PublicURL)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(d.httpSrv, d.httpLn) })
	g.Go(func() error { return serveHTTP(d.wsSrv, d.wsLn) })
	if d.metricsSrv != nil {
		g.Go(func() error { return serveHTTP(d.metricsSrv, d.metricsLn) })
	}
	g.Go(func() error { return d.broker.Run(gctx) })
	g.Go(func() error {
		newSweeper(cfg.Retention, cfg.Publisher.IdempotencyTTL, d.st, logger, d.metrics).Run(gctx)
		return nil
	})
	<-gctx.Done()
	return d.stop(g)
}

// start listens first, so that a taken port fails at once, before any
// work; then opens the store and builds the one hub (the registry of open
// sockets both servers share), the broker, the service and the servers.
func (d *daemon) start(ctx context.Context) error {
	cfg, logger := d.cfg, d.logger
	var err error
	if d.httpLn, err = net.Listen("tcp", cfg.HTTP.Addr); err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	if d.wsLn, err = net.Listen("tcp", cfg.WS.Addr); err != nil {
		return fmt.Errorf("ws.addr: %w", err)
	}
	if d.metricsLn, err = listenMetrics(cfg.Metrics); err != nil {
		return err
	}
	d.reg, d.metrics = newMetrics()
	if d.st, err = store.Open(ctx, cfg.Database, logger, d.metrics); err != nil {
		return err
	}

	tokens, err := newTokens(ctx, cfg.Auth.JWT, logger, d.metrics)
	if err != nil {
		return err
	}
	// The external users Accounts reads or creates are known to Service's
	// publishes: one cache for both.
	external := &notify.ExternalIDs{}
	accounts, err := notify.NewAccounts(d.st, notify.AccountsConfig{SessionTTL: cfg.Auth.SessionTTL.D(),
		HashConcurrency: cfg.Auth.HashConcurrency, HashQueue: cfg.Auth.HashQueue,
		MaxSessionsPerUser: cfg.Auth.MaxSessionsPerUser}, tokens, external)
	if err != nil {
		return err
	}
	d.hub = notify.NewHub(notify.HubConfig{SendQueue: cfg.WS.SendQueue, MaxPerUser: cfg.WS.MaxConnectionsPerUser, Observer: d.metrics})
	// The one seam between this process and the others (cluster.broker).
	if d.broker, d.closeBroker, err = newBroker(cfg, d.st, d.hub, logger, d.reg, d.metrics); err != nil {
		return err
	}
	d.svc = notify.NewService(d.st, d.hub, d.broker,
		notify.BatchConfig{MaxRows: cfg.Database.BatchMaxRows, MaxWait: cfg.Database.BatchMaxWait.D(), Committers: cfg.Database.CommitterCount()}, logger, external)
	d.tasks = notify.NewTasks(d.svc, logger)

	api := httpserver.New(httpserver.Config{
		HTTP:           cfg.HTTP,
		Auth:           cfg.Auth,
		Demo:           cfg.Demo,
		WSPublicURL:    cfg.WS.PublicURL,
		AllowedOrigins: cfg.WS.AllowedOrigins,
	}, d.st, d.svc, accounts, d.tasks, d.broker.Ready, logger, d.metrics)
	d.ws = wsserver.New(cfg.WS, d.hub, d.svc, accounts, d.st, logger, d.metrics)
	d.httpSrv = newHTTPServer(api.Handler(), httpTimeouts(cfg.HTTP), logger)
	d.wsSrv = newHTTPServer(d.ws.Handler(), wsTimeouts(cfg.WS), logger)
	if d.metricsLn != nil {
		d.metricsSrv = newMetricsServer(cfg, d.reg, logger)
	}
	return nil
}

// stop is the shutdown, in order:
//
//  1. stop accepting on both listeners, finish in-flight HTTP requests and
//     close every socket with 1001 (http.Server.Shutdown ignores hijacked
//     websocket connections, so the hub closes those itself), bounded by
//     http.shutdown_timeout; the metrics listener just closes (a scrape
//     can be retried);
//  2. the websocket server's goroutines end, then the demo tasks (no new
//     notifications);
//  3. the service drains its group commit: notifications still being
//     committed are stored, published and answered;
//  4. the background work (broker receiver, retention sweeper) has
//     stopped with ctx: wait for it (g);
//  5. the broker closes, after publishing what the draining service
//     handed it;
//  6. the database closes, last.
//
// g is nil when start failed: nothing was served. It returns the first
// error of g; a slow client only makes it log what did not finish in time
// (a clean stop still exits 0).
func (d *daemon) stop(g *errgroup.Group) error {
	timeout := d.cfg.HTTP.ShutdownTimeout.D()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if g != nil {
		d.logger.Info("shutting down", "timeout", timeout)
	}
	var errs []error
	if d.httpSrv != nil {
		errs = append(errs, d.stopServing(ctx)...)
	}
	if d.metricsSrv != nil {
		_ = d.metricsSrv.Close()
		stopProfiling(d.cfg.Metrics)
	}
	if d.ws != nil {
		d.ws.Close()
	}
	if d.tasks != nil {
		d.tasks.Close()
	}
	if d.svc != nil {
		// A drain of its own, as long as the servers had: rows being
		// committed must not be cut short by slow sockets.
		dctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := d.svc.Close(dctx); err != nil {
			errs = append(errs, fmt.Errorf("notifications still being committed: %w", err))
		}
	}
	var err error
	if g != nil {
		err = g.Wait()
	}
	if d.closeBroker != nil {
		d.closeBroker()
	}
	if d.st != nil {
		if cerr := d.st.Close(); cerr != nil {
			errs = append(errs, cerr)
		}
	}
	for _, ln := range []net.Listener{d.httpLn, d.wsLn, d.metricsLn} {
		if ln != nil {
			_ = ln.Close() // already closed by its server when it served
		}
	}
	if len(errs) > 0 {
		d.logger.Warn("shutdown incomplete", "error", errors.Join(errs...))
	}
	if g != nil {
		d.logger.Info("stopped")
	}
	return err
}

// stopServing shuts both servers down and closes every socket, at once,
// and returns what did not finish before ctx.
func (d *daemon) stopServing(ctx context.Context) []error {
	wsDone := make(chan error, 1)
	go func() { wsDone <- d.wsSrv.Shutdown(ctx) }()
	httpDone := make(chan error, 1)
	go func() { httpDone <- d.httpSrv.Shutdown(ctx) }()
	var errs []error
	if err := d.hub.Shutdown(ctx, notify.CloseGoingAway, "server shutting down"); err != nil {
		errs = append(errs, fmt.Errorf("close sockets: %w", err))
	}
	if err := <-wsDone; err != nil {
		errs = append(errs, fmt.Errorf("ws listener: %w", err))
	}
	if err := <-httpDone; err != nil {
		errs = append(errs, fmt.Errorf("http listener: %w", err))
	}
	return errs
}
