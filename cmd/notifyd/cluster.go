package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/natsbroker"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
)

// newBroker returns the broker cluster.broker names: the local one (one
// process), the postgres one, whose listener delivers the changes of
// every other instance to hub, or the NATS one, which receives them on
// the subjects of the users with sockets here. close stops it; run serves
// it (with Broker.Run) until the servers stop. config.Validate has already
// refused postgres without Postgres, and a cluster broker without
// cluster.secret. The NATS broker's own metrics go on reg.
func newBroker(cfg config.Config, st *store.Store, hub *notify.Hub, logger *slog.Logger, reg prometheus.Registerer, m *metrics.Metrics) (b notify.Broker, closeFn func(), err error) {
	switch cfg.Cluster.Broker {
	case config.BrokerLocal:
		return notify.NewLocalBroker(hub), func() {}, nil
	case config.BrokerPostgres:
		url := cfg.Cluster.ListenURL
		if url == "" {
			url = cfg.Database.URL
		}
		c := cfg.Cluster
		l, err := cluster.New(cluster.Config{URL: url, Secret: c.Secret, MaxLag: c.MaxListenerLag.D(),
			MinBackoff: c.MinBackoff.D(), MaxBackoff: c.MaxBackoff.D(), IdleCheck: c.IdleCheck.D(),
			Receiver: receiverConfig(c)}, st, hub, logger, m)
		if err != nil {
			return nil, nil, usageError{err}
		}
		return l, l.Close, nil
	case config.BrokerNATS:
		rcv := notify.NewReceiver(st, hub, receiverConfig(cfg.Cluster), logger, m)
		nb, err := natsbroker.New(natsbroker.Config{
			NATS: cfg.Cluster.NATS, Secret: []byte(cfg.Cluster.Secret), MaxLag: cfg.Cluster.MaxListenerLag.D(),
		}, rcv, logger, natsbroker.NewMetrics(reg), m)
		if err != nil {
			return nil, nil, usageError{err}
		}
		return nb, nb.Close, nil
	}
	return nil, nil, usageError{fmt.Errorf("cluster.broker %q is not available in this build", cfg.Cluster.Broker)}
}

// receiverConfig is the gap repair and audit of both cluster brokers.
func receiverConfig(c config.Cluster) notify.ReceiverConfig {
	return notify.ReceiverConfig{GapWait: c.GapWait.D(), Audit: c.AuditInterval.D(), SessionAudit: c.SessionAuditInterval.D()}
}
