package testkit

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/cluster"
)

// TerminateListeners ends, with pg_terminate_backend, the connection of
// every cluster listener on the Postgres database at dbURL, as a failover
// or an administrator would, and returns how many it ended.
func TerminateListeners(tb testing.TB, dbURL string) int {
	tb.Helper()
	return listenerQuery(tb, dbURL, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`)
}

// CountListeners returns how many cluster listeners are connected to the
// Postgres database at dbURL.
func CountListeners(tb testing.TB, dbURL string) int {
	tb.Helper()
	return listenerQuery(tb, dbURL, `SELECT COUNT(*) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`)
}

// listenerQuery runs a count over the listeners' backends (found by
// cluster.ApplicationName) on a connection of its own.
func listenerQuery(tb testing.TB, dbURL, query string) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatalf("testkit: connect to the database: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query, cluster.ApplicationName).Scan(&n); err != nil {
		tb.Fatalf("testkit: listeners: %v", err)
	}
	return n
}
