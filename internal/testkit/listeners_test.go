package testkit_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestTerminateListeners: a connection named like the cluster listener is
// counted, ended, and no longer counted; another connection is left alone.
func TestTerminateListeners(t *testing.T) {
	if !storetest.Postgres(t) {
		t.Skip("listeners live on Postgres: set " + storetest.EnvDatabaseURL)
	}
	db := storetest.Config(t)
	ctx := context.Background()
	connect := func(appName string) *pgx.Conn {
		cfg, err := pgx.ParseConfig(db.URL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["application_name"] = appName
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close(ctx) })
		return conn
	}
	listener, other := connect(cluster.ApplicationName), connect("someone-else")

	if n := testkit.CountListeners(t, db.URL); n != 1 {
		t.Fatalf("CountListeners = %d, want 1", n)
	}
	if n := testkit.TerminateListeners(t, db.URL); n != 1 {
		t.Fatalf("TerminateListeners = %d, want 1", n)
	}
	if err := listener.Ping(ctx); err == nil {
		t.Fatal("the listener's connection still answers")
	}
	if err := other.Ping(ctx); err != nil {
		t.Fatalf("another connection was ended too: %v", err)
	}
	testkit.Eventually(t, "no listener left", func() bool { return testkit.CountListeners(t, db.URL) == 0 })
}
