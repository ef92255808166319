package main

import (
	"context"
	"log/slog"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
)

// newListener switches to cluster mode when cluster.enabled: the store
// rings a doorbell in every writing transaction, the service stops pushing
// after commit, and the returned listener delivers every instance's
// doorbells — this one's included — to hub. It returns nil when cluster
// mode is off. config.Validate has already refused cluster mode without
// Postgres.
func newListener(cfg config.Config, st *store.Store, svc *notify.Service, hub *notify.Hub, logger *slog.Logger, metrics *notify.Metrics) (*cluster.Listener, error) {
	if !cfg.Cluster.Enabled {
		return nil, nil
	}
	if err := st.EnableDoorbell(); err != nil {
		return nil, usageError{err}
	}
	url := cfg.Cluster.ListenURL
	if url == "" {
		url = cfg.Database.URL
	}
	l, err := cluster.New(cluster.Config{URL: url, MaxLag: cfg.Cluster.MaxListenerLag.D()},
		cluster.Deps{Store: st, Hub: hub, Logger: logger, Metrics: metrics})
	if err != nil {
		return nil, usageError{err}
	}
	svc.UseDoorbell(st)
	return l, nil
}

// readiness is the extra /readyz check: the listener's lag in cluster
// mode, none otherwise.
func readiness(l *cluster.Listener) func(ctx context.Context) error {
	if l == nil {
		return nil
	}
	return l.Ready
}
