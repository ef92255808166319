package store

import (
	"context"

	"github.com/notifyd/notifyd/notify"
)

// translate is the package translate (errors.go), the one place database
// errors become notify errors, plus the count of the failures that mean
// the database is in trouble: EUNAVAILABLE and internal errors. ENOTFOUND
// and ECONFLICT are answers about the data, not database errors, and are
// not counted. Every Store method reports its errors through here.
func (s *Store) translate(ctx context.Context, op string, err error) error {
	err = translate(ctx, op, err)
	switch code := notify.ErrorCode(err); code {
	case notify.EUNAVAILABLE, notify.EINTERNAL:
		s.metrics.DBError(op, code)
	}
	return err
}
