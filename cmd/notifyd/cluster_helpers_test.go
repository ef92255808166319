package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/store/storetest"
)

// clWait bounds every wait of the cluster tests.
const clWait = 30 * time.Second

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

// clWaitFor polls cond until it holds, failing tb after clWait.
func clWaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(clWait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clSession opens another session of the app's user ext and returns its
// secret.
func clSession(tb testing.TB, in *instance, ext string) string {
	tb.Helper()
	var s struct {
		Secret string `json:"secret"`
	}
	if code := in.api(tb, "POST", "/api/publisher/users/"+ext+"/sessions", testAPIKey, nil, &s); code != http.StatusCreated {
		tb.Fatalf("session of %s: status %d", ext, code)
	}
	return s.Secret
}

// clPost sends a JSON POST with a bearer token and returns the status; it
// is safe in any goroutine.
func clPost(ctx context.Context, url, bearer string, body any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// clNotify creates a notification for the app's user ext through the
// publisher API at httpURL.
func clNotify(ctx context.Context, httpURL string, ext string) error {
	code, err := clPost(ctx, httpURL+"/api/publisher/users/"+ext+"/notifications", testAPIKey,
		map[string]string{"title": "hello"})
	if err == nil && code != http.StatusCreated {
		err = fmt.Errorf("notify user %s: status %d", ext, code)
	}
	return err
}

// clDBIDs returns every notification id of userID in the database of env,
// ascending.
func clDBIDs(tb testing.TB, env map[string]string, userID int64) []int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clWait)
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

// clTerminateListeners ends the listener connections of every instance on
// the database of env and returns how many it ended.
func clTerminateListeners(tb testing.TB, env map[string]string) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, env["NOTIFYD_DATABASE_URL"])
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

// clListeners returns how many listener connections are open on the
// database of env.
func clListeners(tb testing.TB, env map[string]string) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, env["NOTIFYD_DATABASE_URL"])
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, cluster.ApplicationName).Scan(&n)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// clPublisher creates notifications for users through the publisher API
// of an instance until halted.
type clPublisher struct {
	cancel context.CancelFunc
	done   chan error
	sent   atomic.Int64
}

func clPublish(httpURL string, users ...string) *clPublisher {
	ctx, cancel := context.WithCancel(context.Background())
	p := &clPublisher{cancel: cancel, done: make(chan error, 1)}
	go func() {
		for i := 0; ; i++ {
			if ctx.Err() != nil {
				p.done <- nil
				return
			}
			if err := clNotify(ctx, httpURL, users[i%len(users)]); err != nil {
				if ctx.Err() != nil {
					// Cancelled midway: the row may or may not be
					// committed; the test compares with the database.
					p.done <- nil
					return
				}
				p.done <- err
				return
			}
			p.sent.Add(1)
		}
	}()
	return p
}

// halt stops the publisher and fails tb if a publish failed.
func (p *clPublisher) halt(tb testing.TB) {
	tb.Helper()
	p.cancel()
	if err := <-p.done; err != nil {
		tb.Fatalf("publisher: %v", err)
	}
}
