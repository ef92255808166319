package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/notifyd/notifyd/notify"
)

// SQLite result codes (the low byte of an extended code) that mean the
// database could not be reached in time rather than that the query is
// wrong: another writer held the lock past busy_timeout.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// translate is the one place where database errors become notify errors,
// so that callers above the store only ever see notify codes:
//
//   - no row → ENOTFOUND; a foreign key to a missing row → ENOTFOUND
//   - unique violation → ECONFLICT
//   - the database does not answer (connection refused or lost, closed
//     store, query past database.query_timeout) → EUNAVAILABLE
//   - anything else → "store: op: %w", an internal error.
//
// ctx is the context the failed query ran with: when its deadline has
// passed the error is EUNAVAILABLE whatever the driver made of it (SQLite
// reports an interrupted query, not the context error). The original error
// stays in the chain for logs; its text never reaches clients, and neither
// pgx nor SQLite put passwords in it.
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var nerr *notify.Error
	switch {
	case errors.As(err, &nerr):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("store: %s: %w: %w", op, notify.Errorf(notify.ENOTFOUND, "not found"), err)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("store: %s: %w: %w", op, notify.Errorf(notify.ECONFLICT, "already exists"), err)
	case unavailable(ctx, err):
		return fmt.Errorf("store: %s: %w: %w", op, errUnavailable(), err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func errUnavailable() *notify.Error {
	return notify.Errorf(notify.EUNAVAILABLE, "database unavailable")
}

// errNotFound is the ENOTFOUND error of a missing what ("notification",
// "user"), with the same message whether the row does not exist or belongs
// to someone else.
func errNotFound(op, what string) error {
	return fmt.Errorf("store: %s: %w", op, notify.Errorf(notify.ENOTFOUND, "%s not found", what))
}

// unavailable reports whether err means the database could not be reached
// or did not answer in time.
func unavailable(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connectErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-57P03: admin or crash
		// shutdown, cannot connect now.
		switch {
		case strings.HasPrefix(pgErr.Code, "08"),
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03":
			return true
		}
		return false
	}
	var sqliteErr interface{ Code() int }
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff {
		case sqliteBusy, sqliteLocked:
			return true
		}
	}
	// database/sql does not export this one; it is what every call on a
	// closed *sql.DB returns.
	return strings.Contains(err.Error(), "sql: database is closed")
}
