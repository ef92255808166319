package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestReadBackAfterTheTableGrew: the postgres broker reads back rows by id
// from a notifications table that can grow fast from empty. Autovacuum
// analyzes a new table once it holds a few dozen rows, then not again for
// a minute or more. A read-back whose plan was cached in between (a
// prepared statement's generic plan for a one-page table: a sequential
// scan) scans every row of the grown table on each call: in a two-instance
// benchmark, 25 million rows read in 12 s and a third of the pair's
// throughput. Each read-back must find its rows by the primary key.
func TestReadBackAfterTheTableGrew(t *testing.T) {
	ctx, st, admin := planStore(t, 30*time.Second)
	a := storetest.User(t, st, "alice")
	first := insertN(t, st, a.ID, 2)
	// Statistics of the two-row table, as autovacuum takes them early in a
	// fresh database, and no analysis after: autovacuum's own timing must
	// not decide the test.
	if _, err := admin.Exec(ctx, "ALTER TABLE notifications SET (autovacuum_enabled = false); ANALYZE notifications"); err != nil {
		t.Fatal(err)
	}
	readBack := func(n int) {
		for range n {
			got, err := st.NotificationsByIDs(ctx, first)
			if err != nil || len(got) != 2 {
				t.Fatalf("read back %v: %d rows, %v", first, len(got), err)
			}
		}
	}
	readBack(20) // past the five calls after which Postgres may keep a generic plan

	if _, err := admin.Exec(ctx, `INSERT INTO notifications (user_id, title, content, style, created_at)
		SELECT $1, 't', 'c', $2, now() FROM generate_series(1, 20000)`, a.ID, string(notify.StyleInfo)); err != nil {
		t.Fatal(err)
	}
	seq, idx := scansSettled(t, ctx, admin, 20)
	readBack(20)
	seq2, idx2 := scansSettled(t, ctx, admin, seq+idx+20)
	if seq2 != seq {
		t.Errorf("20 read-backs of 2 ids after the table grew to 20,002 rows: %d sequential scans, %d index scans; want only index scans",
			seq2-seq, idx2-idx)
	}
}

// scansSettled returns the sequential and index scans of the notifications
// table once their sum reaches atLeast: the scans of other backends reach
// the statistics when those go idle, about a second later.
func scansSettled(tb testing.TB, ctx context.Context, conn *pgx.Conn, atLeast int64) (seq, idx int64) {
	tb.Helper()
	for {
		if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
			tb.Fatal(err)
		}
		err := conn.QueryRow(ctx, `SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0)
			FROM pg_stat_user_tables WHERE relname = 'notifications'`).Scan(&seq, &idx)
		if err != nil {
			tb.Fatal(err)
		}
		if seq+idx >= atLeast {
			return seq, idx
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("notifications: %d scans in the statistics, want at least %d", seq+idx, atLeast)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// planStore opens a store on a fresh Postgres database with one pooled
// connection, so that every read runs on the connection that cached its
// plans, and an admin connection to the same database, for a test of
// plans (run in parallel) that lasts at most timeout. It skips the test
// without Postgres.
func planStore(t *testing.T, timeout time.Duration) (context.Context, *store.Store, *pgx.Conn) {
	t.Helper()
	if !storetest.Postgres(t) {
		t.Skip("Postgres plans: set " + storetest.EnvDatabaseURL)
	}
	t.Parallel()
	cfg := storetest.Config(t)
	cfg.MaxOpenConns = 1
	st := storetest.OpenConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	admin, err := pgx.Connect(ctx, cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	return ctx, st, admin
}
