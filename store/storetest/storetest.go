// Package storetest gives tests a fresh, empty database: a SQLite file in
// the test's temporary directory, or a new Postgres database when
// NOTIFYD_TEST_DATABASE_URL is set, so every suite runs on both.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
)

// EnvDatabaseURL names the environment variable with the URL of a Postgres
// server tests may create databases on, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. Unset: tests
// use SQLite.
const EnvDatabaseURL = "NOTIFYD_TEST_DATABASE_URL"

// Settings of every test database.
const (
	queryTimeout = 5 * time.Second
	maxOpenConns = 10
	// adminTimeout bounds CREATE and DROP DATABASE.
	adminTimeout = 30 * time.Second
)

// Postgres reports whether tests run against Postgres.
func Postgres(tb testing.TB) bool {
	tb.Helper()
	return adminURL(tb) != ""
}

func adminURL(tb testing.TB) string {
	tb.Helper()
	// Looked up per call (not cached in a package variable) so a test can
	// t.Setenv it.
	return strings.TrimSpace(os.Getenv(EnvDatabaseURL))
}

// Config returns the settings of a fresh, empty database, removed when the
// test ends: a SQLite file in tb.TempDir(), or a new Postgres database
// named notifyd_test_<random> on the server of NOTIFYD_TEST_DATABASE_URL,
// dropped in tb.Cleanup. No schema is applied: store.Open does that.
func Config(tb testing.TB) config.Database {
	tb.Helper()
	cfg := config.Database{
		MaxOpenConns: maxOpenConns,
		QueryTimeout: config.Duration(queryTimeout),
	}
	admin := adminURL(tb)
	if admin == "" {
		cfg.SQLitePath = filepath.Join(tb.TempDir(), "notifyd.db")
		return cfg
	}
	name := "notifyd_test_" + randomHex(tb)
	dbURL, err := withDatabase(admin, name)
	if err != nil {
		tb.Fatalf("storetest: %s: %v", EnvDatabaseURL, err)
	}
	adminExec(tb, admin, "CREATE DATABASE "+name)
	tb.Cleanup(func() {
		// FORCE ends connections a test left open (Postgres 13+).
		adminExec(tb, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	cfg.URL = dbURL
	return cfg
}

// Open opens a store on a fresh database (Config) and closes it when the
// test ends.
func Open(tb testing.TB) *store.Store {
	tb.Helper()
	return OpenConfig(tb, Config(tb))
}

// OpenConfig opens a store on cfg and closes it when the test ends.
func OpenConfig(tb testing.TB, cfg config.Database) *store.Store {
	tb.Helper()
	return OpenMetrics(tb, cfg, nil)
}

// OpenMetrics opens a store on cfg that counts its failed calls in m, and
// closes it when the test ends.
func OpenMetrics(tb testing.TB, cfg config.Database, m *metrics.Metrics) *store.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	st, err := store.Open(ctx, cfg, slog.New(slog.DiscardHandler), m)
	if err != nil {
		tb.Fatalf("storetest: open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// User creates a user named name (no password) and returns it.
func User(tb testing.TB, st *store.Store, name string) notify.User {
	tb.Helper()
	u, err := st.CreateUser(context.Background(), name, "", time.Now())
	if err != nil {
		tb.Fatalf("storetest: create user %q: %v", name, err)
	}
	return u
}

func randomHex(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("storetest: random name: %v", err)
	}
	return hex.EncodeToString(b)
}

// withDatabase returns the connection string admin with its database
// replaced by name. Both URL and keyword/value forms are accepted.
func withDatabase(admin, name string) (string, error) {
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			// url.Parse quotes the URL, password included.
			return "", errors.New("not a valid URL")
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In the keyword/value form a later key wins.
	return admin + " dbname=" + name, nil
}

// adminExec runs one statement on the server of admin, on its own
// connection: CREATE/DROP DATABASE cannot run inside a transaction.
func adminExec(tb testing.TB, admin, stmt string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("storetest: connect to %s: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		tb.Fatalf("storetest: %s: %v", stmt, err)
	}
}
