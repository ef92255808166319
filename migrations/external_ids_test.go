package migrations_test

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

// TestExternalIDsMigration migrates a database with self-signup accounts
// (a password hash) and publisher-created users (none) from version 4 to
// 5: the publisher's users become external users keyed by their old
// username, the self-signup accounts keep none; then Down gives every user
// a username again.
func TestExternalIDsMigration(t *testing.T) {
	t.Parallel()
	db, dialect, p := migratedTo(t, 4)
	ctx := context.Background()
	const now = "'2025-01-01 00:00:00+00:00'"
	execAll(t, db,
		"INSERT INTO users (username, password_hash, created_at) VALUES ('Dave', 'argon2-hash', "+now+")",
		"INSERT INTO users (username, created_at) VALUES ('erin', "+now+"), ('auth0.5f7c', "+now+")")
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
		"INSERT INTO users (username, external_id, created_at) VALUES ('', 'dave', "+now+")",
		"INSERT INTO users (username, external_id, created_at) VALUES ('', 'Erin', "+now+")")
	if _, err := db.ExecContext(ctx, "INSERT INTO users (username, external_id, created_at) VALUES ('', 'erin', "+now+")"); err == nil {
		t.Fatal("a second user with external id erin was stored")
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO users (username, created_at) VALUES ('dAVE', "+now+")"); err == nil {
		t.Fatal("a second self-signup user named dave was stored")
	}
	if dialect == migrations.Postgres {
		if _, err := db.ExecContext(ctx, "INSERT INTO users (username, external_id, created_at) VALUES ('frank', 'frank', "+now+")"); err == nil {
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
