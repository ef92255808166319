// Package store is notifyd's database: users, sessions and notifications on
// Postgres or embedded SQLite through gorm. It is the only package that
// imports gorm, and it translates every database error into a notify error
// code (see errors.go), so nothing above it ever sees a driver error.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/glebarez/sqlite" // also registers the pure-Go "sqlite" database/sql driver
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// defaultQueryTimeout bounds every query when database.query_timeout is not
// set, so a dead database is "unavailable" instead of a hang.
const defaultQueryTimeout = 5 * time.Second

// The store is what the domain needs from a database.
var (
	_ notify.NotificationStore = (*Store)(nil)
	_ notify.AccountStore      = (*Store)(nil)
)

// Store is the database. Its methods are safe for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	timeout time.Duration
	metrics *metrics.Metrics // counts database errors (Open); nil counts nothing

	// The reads every connect makes, coalesced under bursts (coalesce.go).
	sessions  *coalescer[string, sessionUserRow]
	positions *coalescer[int64, notify.Position]
	connects  *coalescer[string, connectRow] // a session and its user's position

	// growth analyzes the connect reads' tables as they outgrow their
	// statistics (analyze_pg.go). Postgres only; nil on SQLite.
	growth *growthWatch
}

// Open connects to the database cfg selects — Postgres when cfg.URL is set,
// else SQLite at cfg.SQLitePath — and applies pending migrations. It fails
// with EUNAVAILABLE when the database does not answer within
// cfg.QueryTimeout. The store counts its failed calls in m
// (notifyd_db_errors_total); nil counts nothing.
func Open(ctx context.Context, cfg config.Database, logger *slog.Logger, m *metrics.Metrics) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sqlDB, dialect, err := openSQL(cfg)
	if err != nil {
		return nil, err
	}
	timeout := queryTimeout(cfg)
	if err := migrate(ctx, sqlDB, dialect, timeout, logger); err != nil {
		sqlDB.Close()
		return nil, err
	}
	var dialector gorm.Dialector
	if dialect == migrations.Postgres {
		dialector = postgres.New(postgres.Config{Conn: sqlDB})
	} else {
		dialector = &sqlite.Dialector{Conn: sqlDB}
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		// Duplicate keys and foreign keys come back as gorm errors that
		// translate maps to notify codes.
		TranslateError: true,
		// gorm's logger prints SQL with its parameters (password hashes,
		// session hashes): never let it write anything.
		Logger:  gormlogger.Discard,
		NowFunc: func() time.Time { return time.Now().UTC() },
		// Single statements are atomic; multi-statement writes open their
		// own transactions.
		SkipDefaultTransaction: true,
		// Open already pinged through migrate.
		DisableAutomaticPing: true,
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: open: %w", err)
	}
	s := &Store{db: db, sqlDB: sqlDB, dialect: dialect, timeout: timeout, metrics: m}
	// The dialect's reads are chosen once, here (connect_reads_pg.go).
	if dialect == migrations.Postgres {
		s.sessions = newCoalescer(s.sessionsBySecretHashPG)
		s.positions = newCoalescer(s.positionsOfPG)
		s.connects = newCoalescer(s.connectsBySecretHashPG)
		s.growth = newGrowthWatch()
	} else {
		s.sessions = newCoalescer(s.sessionsBySecretHash)
		s.positions = newCoalescer(s.positionsOf)
		s.connects = newCoalescer(s.connectsBySecretHash)
	}
	return s, nil
}

// Migrate applies pending migrations to the database cfg selects and
// closes it again (`notifyd migrate`).
func Migrate(ctx context.Context, cfg config.Database, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sqlDB, dialect, err := openSQL(cfg)
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	return migrate(ctx, sqlDB, dialect, queryTimeout(cfg), logger)
}

func queryTimeout(cfg config.Database) time.Duration {
	if cfg.QueryTimeout > 0 {
		return cfg.QueryTimeout.D()
	}
	return defaultQueryTimeout
}

// openSQL opens the connection pool cfg selects without connecting yet.
func openSQL(cfg config.Database) (*sql.DB, string, error) {
	var (
		sqlDB   *sql.DB
		dialect string
	)
	if cfg.URL != "" {
		pgCfg, err := pgx.ParseConfig(cfg.URL)
		if err != nil {
			// The parse error may quote the URL, password included.
			return nil, "", errors.New("store: open: database.url is not a valid Postgres URL")
		}
		sqlDB, dialect = stdlib.OpenDB(*pgCfg), migrations.Postgres
	} else {
		dsn, err := sqliteDSN(cfg.SQLitePath, queryTimeout(cfg))
		if err != nil {
			return nil, "", err
		}
		if err := createPrivate(cfg.SQLitePath); err != nil {
			return nil, "", err
		}
		sqlDB, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, "", fmt.Errorf("store: open: %w", err)
		}
		dialect = migrations.SQLite
	}
	if cfg.MaxOpenConns > 0 {
		sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
		sqlDB.SetMaxIdleConns(cfg.MaxOpenConns)
	}
	// Recycle idle connections so a restarted database or a failover is
	// picked up without waiting for a broken connection to be used.
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return sqlDB, dialect, nil
}

// createPrivate creates the SQLite file at path, readable and writable by
// its owner only (0600), when it does not exist yet: it holds password
// hashes and every notification. SQLite creates the -wal and -shm files
// with the permissions of the database file, so they are private too. An
// existing file is left as it is: its owner chose its mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open: create database.sqlite_path: %w", err)
	}
	// A umask such as 0277 would leave the owner without write access;
	// Chmod makes the mode exactly 0600 whatever the umask.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("store: open: chmod database.sqlite_path: %w", err)
	}
	return f.Close()
}

// sqliteDSN builds the DSN of the SQLite file at path: foreign keys on,
// WAL so readers do not block the writer, and immediate transactions that
// take the write lock at BEGIN, so concurrent writers wait instead of
// failing with SQLITE_BUSY halfway through. They wait up to busy_timeout,
// which is the query timeout (default 5 s): SQLite does not interrupt that
// wait when the context ends, so it must not be longer.
func sqliteDSN(path string, busyTimeout time.Duration) (string, error) {
	if path == "" {
		return "", errors.New("store: open: database.sqlite_path is empty")
	}
	if strings.Contains(path, ":memory:") {
		// Every pooled connection would get its own empty database.
		return "", errors.New("store: open: database.sqlite_path must name a file (an in-memory database is refused)")
	}
	if strings.ContainsAny(path, "?#") {
		return "", errors.New("store: open: database.sqlite_path must not contain '?' or '#'")
	}
	busyMS := max(busyTimeout.Milliseconds(), 1)
	return fmt.Sprintf("%s?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(%d)&_txlock=immediate", path, busyMS), nil
}

// migrate pings the database, then applies pending migrations.
func migrate(ctx context.Context, sqlDB *sql.DB, dialect string, timeout time.Duration, logger *slog.Logger) error {
	pingCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		return translate(pingCtx, "open", err)
	}
	// goose logs each migration it applies (and "no migrations to run").
	if _, err := migrations.Up(ctx, sqlDB, dialect, logger); err != nil {
		return translate(ctx, "migrate", err)
	}
	return nil
}

// Close closes the connection pool. Calls after Close fail with
// EUNAVAILABLE.
func (s *Store) Close() error {
	if s.growth != nil {
		s.growth.close()
	}
	if err := s.sqlDB.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers within the query timeout
// (EUNAVAILABLE otherwise); /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return s.translate(ctx, "ping", err)
	}
	// A pooled SQLite connection answers a ping without running anything;
	// make sure one can still run a statement.
	if s.dialect == migrations.SQLite {
		var one int
		if err := s.sqlDB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return s.translate(ctx, "ping", err)
		}
	}
	return nil
}

// query returns the gorm handle for one store call: bound to ctx and cut
// off after the query timeout. The caller must call cancel.
func (s *Store) query(ctx context.Context) (*gorm.DB, context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return s.db.WithContext(ctx), ctx, cancel
}

// utc returns t in UTC, truncated to the microsecond Postgres keeps, so a
// time returned by a write equals the one read back later on either
// dialect.
func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
