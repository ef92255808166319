package cluster_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 20 * time.Second

// clusterDB returns a fresh Postgres database, or skips: cluster mode
// needs Postgres.
func clusterDB(tb testing.TB) config.Database {
	tb.Helper()
	if !storetest.Postgres(tb) {
		tb.Skip("cluster tests need Postgres: set " + storetest.EnvDatabaseURL)
	}
	return storetest.Config(tb)
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
	metrics := notify.NewMetrics(reg)
	hub := notify.NewHub(notify.HubConfig{SendQueue: opt.queue, MaxPerUser: 16, Metrics: metrics})
	l, err := cluster.New(cluster.Config{
		URL: opt.listenURL, Secret: opt.secret, MaxLag: opt.maxLag,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		IdleCheck: time.Second,
		Receiver:  notify.ReceiverConfig{Audit: opt.audit},
	}, cluster.Deps{Store: ls, Hub: hub, Logger: testLogger(tb), Metrics: metrics})
	if err != nil {
		tb.Fatal(err)
	}
	svc := notify.NewService(st, hub, l, notify.BatchConfig{}, slog.New(slog.DiscardHandler))
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
	waitFor(tb, "listener connected", n.l.Connected)
}

// waitFor polls cond until it holds, failing tb after waitTimeout.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkExactlyOnce checks that got holds every id of want exactly once,
// in increasing order.
func checkExactlyOnce(tb testing.TB, name string, got, want []int64) {
	tb.Helper()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			tb.Fatalf("%s: id %d after %d (duplicate or out of order)", name, got[i], got[i-1])
		}
	}
	if !slices.Equal(got, want) {
		missing := 0
		for _, id := range want {
			if !slices.Contains(got, id) {
				missing++
			}
		}
		tb.Fatalf("%s: got %d ids, want %d (%d missing)", name, len(got), len(want), missing)
	}
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

// terminateListeners ends the listener connections on db's database and
// returns how many there were.
func terminateListeners(tb testing.TB, db config.Database) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, cluster.ApplicationName).Scan(&n)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// user creates a user with one session and returns their ids.
func user(tb testing.TB, st *store.Store, name string) (userID, sessionID int64) {
	tb.Helper()
	u := storetest.User(tb, st, name)
	return u.ID, session(tb, st, u.ID, name)
}

// session creates a session of userID (label makes its hash unique) and
// returns its id.
func session(tb testing.TB, st *store.Store, userID int64, label string) int64 {
	tb.Helper()
	now := time.Now()
	s, err := st.CreateSession(context.Background(), notify.Session{
		UserID: userID, SecretHash: []byte("hash of " + label), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s.ID
}
