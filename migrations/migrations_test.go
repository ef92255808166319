package migrations_test

import (
	"context"
	"database/sql"
	"io/fs"
	"slices"
	"testing"

	_ "github.com/glebarez/go-sqlite"  // "sqlite" driver
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestFS(t *testing.T) {
	t.Parallel()
	var names [][]string
	for _, dialect := range []string{migrations.Postgres, migrations.SQLite} {
		fsys, err := migrations.FS(dialect)
		if err != nil {
			t.Fatalf("FS(%q): %v", dialect, err)
		}
		files, err := fs.Glob(fsys, "*.sql")
		if err != nil || len(files) == 0 || files[0] != "00001_init.sql" {
			t.Fatalf("%s migrations: %v, %v", dialect, files, err)
		}
		names = append(names, files)
	}
	// Both dialects must stay at the same versions.
	if !slices.Equal(names[0], names[1]) {
		t.Fatalf("postgres has %v, sqlite has %v", names[0], names[1])
	}
	if _, err := migrations.FS("mysql"); err == nil {
		t.Fatal("FS(mysql) succeeded")
	}
}

// openDB returns a fresh, empty database and its dialect.
func openDB(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	cfg := storetest.Config(tb)
	driver, dsn, dialect := "sqlite", cfg.SQLitePath+"?_pragma=foreign_keys(1)", migrations.SQLite
	if cfg.URL != "" {
		driver, dsn, dialect = "pgx", cfg.URL, migrations.Postgres
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	// One connection: SQLite's foreign_keys pragma is per connection.
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	return db, dialect
}

func TestUpTwice(t *testing.T) {
	t.Parallel()
	db, dialect := openDB(t)
	ctx := context.Background()
	fsys, _ := migrations.FS(dialect)
	files, _ := fs.Glob(fsys, "*.sql")

	if cur, latest, err := migrations.Version(ctx, db, dialect); err != nil || cur != 0 || latest != int64(len(files)) {
		t.Fatalf("fresh database at version %d of %d, %v; want 0 of %d", cur, latest, err, len(files))
	}
	n, err := migrations.Up(ctx, db, dialect, nil)
	if err != nil || n != len(files) {
		t.Fatalf("first Up applied %d, %v; want %d", n, err, len(files))
	}
	n, err = migrations.Up(ctx, db, dialect, nil)
	if err != nil || n != 0 {
		t.Fatalf("second Up applied %d, %v; want 0", n, err)
	}
	if cur, latest, err := migrations.Version(ctx, db, dialect); err != nil || cur != latest {
		t.Fatalf("version %d of %d, %v", cur, latest, err)
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	db, dialect := openDB(t)
	ctx := context.Background()
	if _, err := migrations.Up(ctx, db, dialect, nil); err != nil {
		t.Fatal(err)
	}
	exec := func(tb testing.TB, q string) error {
		tb.Helper()
		_, err := db.ExecContext(ctx, q)
		return err
	}
	count := func(tb testing.TB, q string) int {
		tb.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
		return n
	}
	const now = "'2025-01-01 00:00:00+00:00'"
	steps := []struct {
		name    string
		sql     string
		wantErr bool
	}{
		{"user", "INSERT INTO users (username, created_at) VALUES ('Alice', " + now + ")", false},
		{"username taken in other case", "INSERT INTO users (username, created_at) VALUES ('aLICE', " + now + ")", true},
		{"session", "INSERT INTO sessions (user_id, secret_hash, created_at, expires_at) VALUES ((SELECT MIN(id) FROM users), 'h1', " + now + ", " + now + ")", false},
		{"same secret hash", "INSERT INTO sessions (user_id, secret_hash, created_at, expires_at) VALUES ((SELECT MIN(id) FROM users), 'h1', " + now + ", " + now + ")", true},
		{"session of no user", "INSERT INTO sessions (user_id, secret_hash, created_at, expires_at) VALUES (999, 'h2', " + now + ", " + now + ")", true},
		{"notification", "INSERT INTO notifications (user_id, title, created_at) VALUES ((SELECT MIN(id) FROM users), 't', " + now + ")", false},
		{"notification with style", "INSERT INTO notifications (user_id, title, style, created_at) VALUES ((SELECT MIN(id) FROM users), 't', 'error', " + now + ")", false},
		{"unknown style", "INSERT INTO notifications (user_id, title, style, created_at) VALUES ((SELECT MIN(id) FROM users), 't', 'fancy', " + now + ")", true},
		{"notification of no user", "INSERT INTO notifications (user_id, title, created_at) VALUES (999, 't', " + now + ")", true},
		{"no title", "INSERT INTO notifications (user_id, created_at) VALUES ((SELECT MIN(id) FROM users), " + now + ")", true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := exec(t, s.sql); (err != nil) != s.wantErr {
				t.Fatalf("error %v, want error: %v", err, s.wantErr)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		if n := count(t, "SELECT COUNT(*) FROM notifications WHERE style = 'info' AND NOT read AND read_at IS NULL AND content = ''"); n != 1 {
			t.Fatalf("%d rows with the defaults, want 1", n)
		}
	})
	t.Run("ids are not reused", func(t *testing.T) {
		maxID := count(t, "SELECT MAX(id) FROM notifications")
		if err := exec(t, "DELETE FROM notifications WHERE id = (SELECT MAX(id) FROM notifications)"); err != nil {
			t.Fatal(err)
		}
		if err := exec(t, "INSERT INTO notifications (user_id, title, created_at) VALUES ((SELECT MIN(id) FROM users), 't', "+now+")"); err != nil {
			t.Fatal(err)
		}
		if got := count(t, "SELECT MAX(id) FROM notifications"); got <= maxID {
			t.Fatalf("new id %d, deleted max was %d", got, maxID)
		}
	})
	t.Run("deleting a user cascades", func(t *testing.T) {
		if err := exec(t, "DELETE FROM users"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, "SELECT COUNT(*) FROM sessions") + count(t, "SELECT COUNT(*) FROM notifications"); n != 0 {
			t.Fatalf("%d rows left", n)
		}
	})
}
