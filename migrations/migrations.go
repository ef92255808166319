// Package migrations holds notifyd's versioned schema, one set of goose SQL
// files per dialect, embedded in the binary, and applies it.
//
// A new migration is a new file NNNNN_name.sql in every dialect folder, with
// the same version number, so both databases stay at the same version.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The dialects notifyd supports, as returned by store.Store.Dialect.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// files is read-only: embed.FS cannot change at run time.
//
//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migration files of dialect ("postgres" or "sqlite").
func FS(dialect string) (fs.FS, error) {
	switch dialect {
	case Postgres, SQLite:
		return fs.Sub(files, dialect)
	}
	return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
}

// newProvider returns a goose provider over db without touching goose's
// global state. On Postgres a session advisory lock makes several notifyd
// instances starting at once apply the migrations one after the other.
func newProvider(db *sql.DB, dialect string, logger *slog.Logger) (*goose.Provider, error) {
	fsys, err := FS(dialect)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(logger),
	}
	gooseDialect := goose.DialectSQLite3
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		// Retry every second for up to a minute while another instance
		// migrates (goose's default is every 5 s for 5 min).
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 60))
		if err != nil {
			return nil, fmt.Errorf("migrations: locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: provider: %w", err)
	}
	return p, nil
}

// Up applies every pending migration of dialect to db and returns how many
// it applied; 0 when the schema is already current.
func Up(ctx context.Context, db *sql.DB, dialect string, logger *slog.Logger) (int, error) {
	p, err := newProvider(db, dialect, logger)
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrations: up: %w", err)
	}
	return len(results), nil
}

// Version returns the schema version of db (0 for an empty database) and
// the newest version embedded in this binary.
func Version(ctx context.Context, db *sql.DB, dialect string) (current, latest int64, err error) {
	p, err := newProvider(db, dialect, nil)
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: version: %w", err)
	}
	return current, latest, nil
}
