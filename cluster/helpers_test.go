package cluster_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// clusterDB returns a fresh Postgres database, or skips: cluster mode
// needs Postgres.
func clusterDB(tb testing.TB) config.Database {
	tb.Helper()
	if !storetest.Postgres(tb) {
		tb.Skip("cluster tests need Postgres: set " + storetest.EnvDatabaseURL)
	}
	return storetest.Config(tb)
}

// twoNodes starts nodes A and B, with default options, on one fresh
// database, which it returns too.
func twoNodes(tb testing.TB) (db config.Database, a, b *node) {
	tb.Helper()
	db = clusterDB(tb)
	return db, newNode(tb, db, nodeOptions{}), newNode(tb, db, nodeOptions{})
}

// node is one notifyd instance without its servers: a store, a hub, a
// running listener (the postgres broker) and a service publishing through
// it.
type node struct {
	st  *store.Store
	hub *notify.Hub
	svc *notify.Service
	l   *cluster.Listener
	reg *prometheus.Registry // the node's metrics
}

// nodeOptions tweak newNode.
type nodeOptions struct {
	listenURL string                            // default: the database's URL
	wrap      func(cluster.Store) cluster.Store // wraps the listener's store
	queue     int                               // ws.send_queue; default 1024
	maxLag    time.Duration                     // default 300 ms
	secret    string                            // cluster.secret; default testSecret
	audit     time.Duration                     // the receiver's audit; default 200 ms
}

// testSecret is the cluster.secret of the test nodes.
const testSecret = "a8d1f0c3b5e7d9f1a3c5e7b9d1f3a5c7"

func newNode(tb testing.TB, db config.Database, opt nodeOptions) *node {
	tb.Helper()
	st := storetest.OpenConfig(tb, db)
	if opt.secret == "" {
		opt.secret = testSecret
	}
	if opt.audit == 0 {
		opt.audit = 200 * time.Millisecond
	}
	if opt.queue == 0 {
		opt.queue = 1024
	}
	if opt.maxLag == 0 {
		opt.maxLag = 300 * time.Millisecond
	}
	if opt.listenURL == "" {
		opt.listenURL = db.URL
	}
	var ls cluster.Store = st
	if opt.wrap != nil {
		ls = opt.wrap(st)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	hub := notify.NewHub(notify.HubConfig{SendQueue: opt.queue, MaxPerUser: 16, Observer: m})
	l, err := cluster.New(cluster.Config{
		URL: opt.listenURL, Secret: opt.secret, MaxLag: opt.maxLag,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		IdleCheck: time.Second,
		Receiver:  notify.ReceiverConfig{GapWait: notifytest.ReceiverConfig().GapWait, Audit: opt.audit, SessionAudit: opt.audit},
	}, ls, hub, testLogger(tb), m)
	if err != nil {
		tb.Fatal(err)
	}
	svc := notify.NewService(st, hub, l, notify.BatchConfig{}, slog.New(slog.DiscardHandler), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(context.Background())
	}()
	tb.Cleanup(func() {
		l.Close()
		<-done
	})
	n := &node{st: st, hub: hub, svc: svc, l: l, reg: reg}
	n.waitConnected(tb)
	return n
}

func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(p))
	return len(p), nil
}

func (n *node) waitConnected(tb testing.TB) {
	tb.Helper()
	testkit.Eventually(tb, "listener connected", n.l.Connected)
}

// dbIDs returns every notification id of userID, ascending.
func dbIDs(tb testing.TB, st *store.Store, userID int64) []int64 {
	tb.Helper()
	rows, err := st.NotificationsAfter(context.Background(), map[int64]int64{userID: 0}, 1_000_000)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}
