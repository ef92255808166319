package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestConnectReadsAfterTheTablesGrew: the reads of every connect (session
// by secret hash, session and position, position by user id) must find
// their rows by index however their plans were cached. A fresh deployment
// analyzes its users, sessions and notifications tables while they hold a
// few rows, then not again for a minute or more; a connect storm meanwhile
// grows them. A plan cached on the small tables and kept as they grow is a
// sequential scan of each, on every connect (see
// TestReadBackAfterTheTableGrew for the read-back's). The store analyzes
// the tables again itself once they have outgrown their statistics
// (analyze_pg.go), which makes the connection plan the reads again.
func TestConnectReadsAfterTheTablesGrew(t *testing.T) {
	ctx, st, admin := planStore(t, time.Minute)
	a, b := storetest.User(t, st, "alice"), storetest.User(t, st, "bob")
	hash := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	for _, s := range []notify.Session{
		{UserID: a.ID, SecretHash: hash, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{UserID: b.ID, SecretHash: []byte("fedcba9876543210fedcba9876543210"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if _, err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		insertN(t, st, s.UserID, 1)
	}
	// Statistics of the two-row tables, as autovacuum takes them early in
	// a fresh database, and no analysis after: autovacuum's own timing
	// must not decide the test.
	if _, err := admin.Exec(ctx, `ALTER TABLE users SET (autovacuum_enabled = false);
		ALTER TABLE sessions SET (autovacuum_enabled = false);
		ALTER TABLE notifications SET (autovacuum_enabled = false);
		ANALYZE users, sessions, notifications`); err != nil {
		t.Fatal(err)
	}
	analyzed := analyzeCount(t, ctx, admin)

	reads := []struct {
		name   string
		tables []string
		read   func() error
	}{
		{"session by secret hash", []string{"sessions", "users"}, func() error {
			s, _, err := st.SessionBySecretHash(ctx, hash)
			if err == nil && s.UserID != a.ID {
				t.Fatalf("session of user %d, want %d", s.UserID, a.ID)
			}
			return err
		}},
		{"session and position", []string{"sessions", "users", "notifications"}, func() error {
			s, _, p, err := st.SessionAndPosition(ctx, hash)
			if err == nil && (s.UserID != a.ID || p.Newest == 0) {
				t.Fatalf("session of user %d, position %+v; want user %d and a newest id", s.UserID, p, a.ID)
			}
			return err
		}},
		{"position", []string{"users", "notifications"}, func() error {
			p, err := st.Position(ctx, a.ID)
			if err == nil && p.Newest == 0 {
				t.Fatalf("position %+v, want a newest id", p)
			}
			return err
		}},
	}
	// The statistics of a backend reach pg_stat_user_tables when it goes
	// idle, a second or so later: each count is taken once a mark, the
	// scan of a table of its own after everything measured, has come.
	if _, err := admin.Exec(ctx, `CREATE TABLE stats_mark ()`); err != nil {
		t.Fatal(err)
	}
	var marks int64
	settle := func(mark func() error) {
		if err := mark(); err != nil {
			t.Fatal(err)
		}
		marks++
		settled(t, ctx, admin, marks)
	}
	storeSettled := func() { settle(func() error { return st.MarkStats(ctx, "stats_mark") }) }
	adminSettled := func() {
		settle(func() error {
			_, err := admin.Exec(ctx, `SELECT pg_stat_force_next_flush(); SELECT FROM stats_mark`)
			return err
		})
	}

	const calls = 20 // past the five after which Postgres may keep a generic plan
	run := func(read func() error) {
		for range calls {
			if err := read(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, r := range reads {
		run(r.read)
	}

	// Grow the tables in one statement, without the foreign keys' checks
	// (their own cached plans are not what this test is about).
	const grown = 20000
	if _, err := admin.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `WITH u AS (
			INSERT INTO users (username, created_at)
			SELECT 'grown' || g, now() FROM generate_series(1, $1::int) g RETURNING id
		), s AS (
			INSERT INTO sessions (user_id, secret_hash, created_at, expires_at)
			SELECT id, sha256(('grown' || id)::bytea), now(), now() + interval '1 hour' FROM u RETURNING user_id
		)
		INSERT INTO notifications (user_id, title, content, style, created_at)
		SELECT user_id, 't', 'c', $2, now() FROM s, generate_series(1, 3)`, grown, string(notify.StyleInfo)); err != nil {
		t.Fatal(err)
	}
	// The store analyzes the tables that outgrew their statistics, on a
	// read, a second or so later (analyze_pg.go): read until it has, for
	// 20 s at most; the reads after decide.
	wait, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	for analyzeCount(t, ctx, admin) < analyzed+3 {
		if _, err := st.Position(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case <-wait.Done():
			t.Logf("the tables grew to %d users and sessions and %d notifications: not analyzed again in 20 s", grown, 3*grown)
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	adminSettled()
	storeSettled()

	for _, r := range reads {
		before := make([]tableScans, len(r.tables))
		for i, table := range r.tables {
			before[i] = tableScansNow(t, ctx, admin, table)
		}
		run(r.read)
		storeSettled()
		for i, table := range r.tables {
			after := tableScansNow(t, ctx, admin, table)
			if after.seq != before[i].seq {
				t.Errorf("%s, %d calls after the tables grew: %s read by %d sequential scans (%d rows), %d index scans; want only index scans",
					r.name, calls, table, after.seq-before[i].seq, after.seqRead-before[i].seqRead, after.idx-before[i].idx)
			}
		}
	}
}

// tableScans are a table's scans in pg_stat_user_tables: sequential,
// rows read by them, and index scans.
type tableScans struct{ seq, seqRead, idx int64 }

// tableScansNow returns table's scans as the statistics hold them now.
func tableScansNow(tb testing.TB, ctx context.Context, conn *pgx.Conn, table string) tableScans {
	tb.Helper()
	if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		tb.Fatal(err)
	}
	var s tableScans
	err := conn.QueryRow(ctx, `SELECT coalesce(seq_scan, 0), coalesce(seq_tup_read, 0), coalesce(idx_scan, 0)
		FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(&s.seq, &s.seqRead, &s.idx)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// analyzeCount returns how many times users, sessions and notifications
// were analyzed other than by autovacuum, in all.
func analyzeCount(tb testing.TB, ctx context.Context, conn *pgx.Conn) int64 {
	tb.Helper()
	if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		tb.Fatal(err)
	}
	var n int64
	err := conn.QueryRow(ctx, `SELECT coalesce(sum(analyze_count), 0)::bigint FROM pg_stat_user_tables
		WHERE relname IN ('users', 'sessions', 'notifications')`).Scan(&n)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// settled waits until the statistics count marks scans of stats_mark.
func settled(tb testing.TB, ctx context.Context, conn *pgx.Conn, marks int64) {
	tb.Helper()
	for {
		s := tableScansNow(tb, ctx, conn, "stats_mark")
		if s.seq >= marks {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("stats_mark: %d scans in the statistics, want %d", s.seq, marks)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
