package main

import (
	"context"
	"maps"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/store/storetest"
)

// clSecret is the cluster.secret of the test instances.
const clSecret = "5e0c8a2f4b6d8e1a3c5f7b9d2e4a6c8f"

// clusterEnv returns the environment of a cluster instance on a fresh
// Postgres database, or skips: cluster mode needs Postgres.
func clusterEnv(tb testing.TB) map[string]string {
	tb.Helper()
	if !storetest.Postgres(tb) {
		tb.Skip("cluster tests need Postgres: set " + storetest.EnvDatabaseURL)
	}
	env := testEnv(tb)
	env["NOTIFYD_CLUSTER_BROKER"] = "postgres"
	env["NOTIFYD_CLUSTER_SECRET"] = clSecret
	env["NOTIFYD_LOG_LEVEL"] = "info"
	return env
}

// clDBIDs returns every notification id of userID in the database of env,
// ascending.
func clDBIDs(tb testing.TB, env map[string]string, userID int64) []int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, env["NOTIFYD_DATABASE_URL"])
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", userID)
	if err != nil {
		tb.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// clReadyz returns the status of GET /readyz.
func clReadyz(in *instance) int {
	resp, err := http.Get(in.HTTPURL + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// clClone copies env, for a second instance on the same database.
func clClone(env map[string]string) map[string]string { return maps.Clone(env) }
