package migrations_test

// The migrations that change rows, in version order: each test fills a
// database migrated to the version before, steps up, checks the rows, and
// steps down again.

import (
	"context"
	"database/sql"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/notifyd/notifyd/migrations"
)

// provider returns a goose provider over db for stepping through versions.
func provider(tb testing.TB, db *sql.DB, dialect string) *goose.Provider {
	tb.Helper()
	fsys, err := migrations.FS(dialect)
	if err != nil {
		tb.Fatal(err)
	}
	gooseDialect := goose.DialectSQLite3
	if dialect == migrations.Postgres {
		gooseDialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gooseDialect, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// migratedTo opens a fresh database migrated up to version and returns
// it, its dialect and the provider that steps it further.
func migratedTo(tb testing.TB, version int64) (*sql.DB, string, *goose.Provider) {
	tb.Helper()
	db, dialect := openDB(tb)
	p := provider(tb, db, dialect)
	if _, err := p.UpTo(context.Background(), version); err != nil {
		tb.Fatal(err)
	}
	return db, dialect, p
}

// execAll runs each statement on db, failing on the first error.
func execAll(tb testing.TB, db *sql.DB, stmts ...string) {
	tb.Helper()
	for _, q := range stmts {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// createdAt is the created_at of the rows the tests insert, as SQL.
const createdAt = "'2025-01-01 00:00:00+00:00'"

// TestUnreadCountBackfill migrates a database holding notifications from
// version 3 to 4 and checks that each user's unread_count starts at its
// number of unread rows, then that Down removes the column again.
func TestUnreadCountBackfill(t *testing.T) {
	t.Parallel()
	db, _, p := migratedTo(t, 3)
	ctx := context.Background()
	execAll(t, db,
		"INSERT INTO users (username, created_at) VALUES ('alice', "+createdAt+"), ('bob', "+createdAt+"), ('carol', "+createdAt+")",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'u', "+createdAt+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'u', "+createdAt+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'u', "+createdAt+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'r', "+createdAt+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'r', "+createdAt+" FROM users WHERE username = 'bob'",
		"UPDATE notifications SET read = NOT read WHERE title = 'r'")
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		user string
		want int64
	}{{"alice", 3}, {"bob", 0}, {"carol", 0}} {
		t.Run(tc.user, func(t *testing.T) {
			var got int64
			err := db.QueryRowContext(ctx, "SELECT unread_count FROM users WHERE username = '"+tc.user+"'").Scan(&got)
			if err != nil || got != tc.want {
				t.Fatalf("unread_count = %d, %v; want %d", got, err, tc.want)
			}
		})
	}

	if _, err := p.DownTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "SELECT unread_count FROM users"); err == nil {
		t.Fatal("unread_count still exists after Down")
	}
}

// TestExternalIDsMigration migrates a database with self-signup accounts
// (a password hash) and publisher-created users (none) from version 4 to
// 5: the publisher's users become external users keyed by their old
// username, the self-signup accounts keep none; then Down gives every user
// a username again.
func TestExternalIDsMigration(t *testing.T) {
	t.Parallel()
	db, dialect, p := migratedTo(t, 4)
	ctx := context.Background()
	execAll(t, db,
		"INSERT INTO users (username, password_hash, created_at) VALUES ('Dave', 'argon2-hash', "+createdAt+")",
		"INSERT INTO users (username, created_at) VALUES ('erin', "+createdAt+"), ('auth0.5f7c', "+createdAt+")")
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}

	type row struct {
		username string
		external sql.NullString
	}
	read := func(id int) row {
		t.Helper()
		var r row
		if err := db.QueryRowContext(ctx, "SELECT username, external_id FROM users WHERE id = $1", id).Scan(&r.username, &r.external); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		id       int
		username string
		external string // "" for none
	}{{1, "Dave", ""}, {2, "", "erin"}, {3, "", "auth0.5f7c"}} {
		if got := read(tc.id); got.username != tc.username || got.external.String != tc.external || got.external.Valid != (tc.external != "") {
			t.Errorf("user %d after Up: %+v, want username %q external %q", tc.id, got, tc.username, tc.external)
		}
	}

	// The namespaces are separate: an external "dave" next to the
	// self-signup "Dave", external ids case-sensitive, each unique.
	execAll(t, db,
		"INSERT INTO users (username, external_id, created_at) VALUES ('', 'dave', "+createdAt+")",
		"INSERT INTO users (username, external_id, created_at) VALUES ('', 'Erin', "+createdAt+")")
	if _, err := db.ExecContext(ctx, "INSERT INTO users (username, external_id, created_at) VALUES ('', 'erin', "+createdAt+")"); err == nil {
		t.Fatal("a second user with external id erin was stored")
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO users (username, created_at) VALUES ('dAVE', "+createdAt+")"); err == nil {
		t.Fatal("a second self-signup user named dave was stored")
	}
	if dialect == migrations.Postgres {
		if _, err := db.ExecContext(ctx, "INSERT INTO users (username, external_id, created_at) VALUES ('frank', 'frank', "+createdAt+")"); err == nil {
			t.Fatal("a user with both a username and an external id was stored")
		}
	}

	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// erin and Erin collide case-insensitively, dave collides with Dave:
	// they get external-<id>; auth0.5f7c gets its name back.
	for id, want := range map[int]string{1: "Dave", 2: "external-2", 3: "auth0.5f7c", 4: "external-4", 5: "external-5"} {
		var got string
		if err := db.QueryRowContext(ctx, "SELECT username FROM users WHERE id = $1", id).Scan(&got); err != nil || got != want {
			t.Errorf("user %d after Down: username %q, %v; want %q", id, got, err, want)
		}
	}
}

// TestUserSeqMigration migrates a database with users from version 5 to 6:
// every user starts at seq 0 and the column refuses NULL; then Down
// removes it and the users are kept.
func TestUserSeqMigration(t *testing.T) {
	t.Parallel()
	db, _, p := migratedTo(t, 5)
	ctx := context.Background()
	execAll(t, db, "INSERT INTO users (username, created_at) VALUES ('alice', "+createdAt+"), ('bob', "+createdAt+")")
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	var n, sum int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(seq), 0) FROM users").Scan(&n, &sum); err != nil || n != 2 || sum != 0 {
		t.Fatalf("after Up: %d users, seq sum %d, %v; want 2 users at seq 0", n, sum, err)
	}
	execAll(t, db, "UPDATE users SET seq = seq + 1 WHERE username = 'alice'")
	if _, err := db.ExecContext(ctx, "UPDATE users SET seq = NULL WHERE username = 'bob'"); err == nil {
		t.Fatal("seq accepted NULL")
	}
	if _, err := p.DownTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "SELECT seq FROM users"); err == nil {
		t.Fatal("seq still exists after Down")
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 2 {
		t.Fatalf("after Down: %d users, %v; want 2", n, err)
	}
}
