package store_test

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

var discard = slog.New(slog.DiscardHandler)

func TestDialectAndPing(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	want := "sqlite"
	if storetest.Postgres(t) {
		want = "postgres"
	}
	if got := st.Dialect(); got != want {
		t.Fatalf("dialect = %q, want %q", got, want)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func TestMigrateThenOpen(t *testing.T) {
	t.Parallel()
	// `notifyd migrate` on a fresh database, again (a no-op), then the
	// server's Open (also a no-op) and a reopen keep the data.
	cfg := storetest.Config(t)
	ctx := context.Background()
	for i := range 2 {
		if err := store.Migrate(ctx, cfg, discard); err != nil {
			t.Fatalf("migrate #%d: %v", i+1, err)
		}
	}
	st := storetest.OpenConfig(t, cfg)
	u := storetest.User(t, st, "alice")
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	st = storetest.OpenConfig(t, cfg)
	if _, err := st.UserByID(ctx, u.ID); err != nil {
		t.Fatalf("user after reopen: %v", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	u := storetest.User(t, st, "alice")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for name, call := range storeCalls(u.ID) {
		t.Run(name, func(t *testing.T) {
			wantCode(t, call(context.Background(), st), notify.EUNAVAILABLE)
		})
	}
}

// storeCalls returns one call of every store method, for userID.
func storeCalls(userID int64) map[string]func(context.Context, *store.Store) error {
	n := notify.NewNotification{Title: "t"}
	return map[string]func(context.Context, *store.Store) error{
		"Ping": func(ctx context.Context, st *store.Store) error { return st.Ping(ctx) },
		"CreateUser": func(ctx context.Context, st *store.Store) error {
			_, err := st.CreateUser(ctx, "newuser", "", t0)
			return err
		},
		"EnsureExternalUser": func(ctx context.Context, st *store.Store) error {
			_, _, err := st.EnsureExternalUser(ctx, "newuser", nil, t0)
			return err
		},
		"UserByName": func(ctx context.Context, st *store.Store) error {
			_, err := st.UserByName(ctx, "alice")
			return err
		},
		"UserByID": func(ctx context.Context, st *store.Store) error {
			_, err := st.UserByID(ctx, userID)
			return err
		},
		"CreateSession": func(ctx context.Context, st *store.Store) error {
			_, err := st.CreateSession(ctx, notify.Session{UserID: userID, SecretHash: notify.HashSecret("s"), CreatedAt: t0, ExpiresAt: t0})
			return err
		},
		"SessionBySecretHash": func(ctx context.Context, st *store.Store) error {
			_, _, err := st.SessionBySecretHash(ctx, notify.HashSecret("s"))
			return err
		},
		"DeleteSession": func(ctx context.Context, st *store.Store) error { return st.DeleteSession(ctx, 1) },
		"DeleteExpiredSessions": func(ctx context.Context, st *store.Store) error {
			_, err := st.DeleteExpiredSessions(ctx, t0)
			return err
		},
		"InsertNotifications": func(ctx context.Context, st *store.Store) error {
			_, _, err := storetest.InsertNotifications(ctx, st, []int64{userID}, n, t0)
			return err
		},
		"ListNotifications": func(ctx context.Context, st *store.Store) error {
			_, _, err := st.ListNotifications(ctx, userID, notify.ListQuery{Limit: 10})
			return err
		},
		"UnreadCount": func(ctx context.Context, st *store.Store) error {
			_, err := st.UnreadCount(ctx, userID)
			return err
		},
		"MaxNotificationID": func(ctx context.Context, st *store.Store) error {
			_, err := st.MaxNotificationID(ctx, userID)
			return err
		},
		"SetRead": func(ctx context.Context, st *store.Store) error {
			_, _, err := st.SetRead(ctx, userID, 1, true, t0)
			return err
		},
		"MarkAllRead": func(ctx context.Context, st *store.Store) error {
			_, _, err := st.MarkAllRead(ctx, userID, 0, t0)
			return err
		},
		"DeleteNotification": func(ctx context.Context, st *store.Store) error {
			_, err := st.DeleteNotification(ctx, userID, 1)
			return err
		},
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: Open and Migrate fail at once with
	// EUNAVAILABLE, and the password is not in the error.
	cfg := config.Database{
		URL:          "postgres://notifyd:hunter2@127.0.0.1:1/notifyd?sslmode=disable",
		MaxOpenConns: 2,
		QueryTimeout: config.Duration(2 * time.Second),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, cfg, discard, nil)
	if err == nil {
		st.Close()
	}
	wantCode(t, err, notify.EUNAVAILABLE)
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the password: %v", err)
	}
	wantCode(t, store.Migrate(ctx, cfg, discard), notify.EUNAVAILABLE)
}

func TestOpenBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  config.Database
	}{
		{"unparsable URL", config.Database{URL: "postgres://notifyd:hunter2@127.0.0.1:notaport/db"}},
		{"unknown URL parameter", config.Database{URL: "postgres://notifyd:hunter2@127.0.0.1/db?sslmode=bogus"}},
		{"no SQLite path", config.Database{}},
		{"SQLite in memory", config.Database{SQLitePath: ":memory:"}},
		{"SQLite path with a query", config.Database{SQLitePath: t.TempDir() + "/x.db?mode=memory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := store.Open(context.Background(), tt.cfg, discard, nil)
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestQueryTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	// Another connection holds the lock a write needs; the write gives up
	// after the query timeout with EUNAVAILABLE instead of hanging, and
	// works again once the lock is released.
	cfg := storetest.Config(t)
	cfg.QueryTimeout = config.Duration(300 * time.Millisecond)
	st := storetest.OpenConfig(t, cfg)
	u := storetest.User(t, st, "alice")
	release := holdWriteLock(t, cfg, u.ID)

	_, _, err := storetest.InsertNotifications(context.Background(), st, []int64{u.ID}, notify.NewNotification{Title: "t"}, t0)
	wantCode(t, err, notify.EUNAVAILABLE)

	release()
	if _, _, err := storetest.InsertNotifications(context.Background(), st, []int64{u.ID}, notify.NewNotification{Title: "t"}, t0); err != nil {
		t.Fatalf("insert after the lock is gone: %v", err)
	}
}

// holdWriteLock blocks InsertNotifications for userID from another
// connection until the returned function is called: on Postgres by locking
// the user's row, on SQLite by holding the database's write lock.
func holdWriteLock(tb testing.TB, cfg config.Database, userID int64) (release func()) {
	tb.Helper()
	ctx := context.Background()
	if cfg.URL != "" {
		conn, err := pgx.Connect(ctx, cfg.URL)
		if err != nil {
			tb.Fatal(err)
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SELECT id FROM users WHERE id = $1 FOR UPDATE", userID); err != nil {
			tb.Fatal(err)
		}
		release = func() { tx.Rollback(ctx); conn.Close(ctx) }
		tb.Cleanup(release)
		return release
	}
	db, err := sql.Open("sqlite", cfg.SQLitePath)
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		tb.Fatal(err)
	}
	release = func() { conn.ExecContext(ctx, "ROLLBACK"); conn.Close(); db.Close() }
	tb.Cleanup(release)
	return release
}

// TestSQLiteFilePrivate: a new SQLite database, and its -wal and -shm
// files, are readable and writable by their owner only; an existing file
// keeps the mode its owner gave it.
func TestSQLiteFilePrivate(t *testing.T) {
	if storetest.Postgres(t) {
		t.Skip("SQLite only")
	}
	cfg := storetest.Config(t)
	cfg.SQLitePath = filepath.Join(t.TempDir(), "private.db")
	st := storetest.OpenConfig(t, cfg)
	storetest.User(t, st, "alice") // a write, so the WAL exists
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(cfg.SQLitePath + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(cfg.SQLitePath+suffix), mode)
		}
	}

	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o640); err != nil {
		t.Fatal(err)
	}
	cfg.SQLitePath = shared
	storetest.OpenConfig(t, cfg)
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("existing file: mode %v (%v), want 640 kept", fi.Mode().Perm(), err)
	}
}
