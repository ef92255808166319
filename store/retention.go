package store

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// DeleteReadBefore deletes at most limit read notifications that were
// read before t, and returns how many it deleted. The retention sweeper
// calls it until it deletes fewer than limit.
func (s *Store) DeleteReadBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	return s.deleteBatch(ctx, "delete read before", "read AND read_at < ?", t, limit)
}

// DeleteUnreadBefore deletes at most limit unread notifications created
// before t, and returns how many it deleted.
func (s *Store) DeleteUnreadBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	return s.deleteBatch(ctx, "delete unread before", "NOT read AND created_at < ?", t, limit)
}

// deleteBatch deletes at most limit notifications matching cond (one "?"
// for t) in one statement, so a large backlog is removed in short
// statements that never hold locks (or SQLite's single write lock) for
// long.
//
// cond is checked again on the rows being deleted: on Postgres a row that
// a user marks read or unread between the inner SELECT and the DELETE is
// re-evaluated against the outer WHERE only, so without the repetition a
// notification marked unread a moment ago could be deleted as read. On
// Postgres SKIP LOCKED also lets the sweepers of several instances share
// the work instead of queueing on each other's rows.
func (s *Store) deleteBatch(ctx context.Context, op, cond string, t time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	lock := ""
	if s.dialect == migrations.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	cutoff := utc(t)
	res := db.Exec("DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE "+cond+" LIMIT ?"+lock+") AND "+cond,
		cutoff, limit, cutoff)
	if res.Error != nil {
		return 0, s.translate(ctx, op, res.Error)
	}
	return res.RowsAffected, nil
}

// The sweeper runs on the store.
var _ notify.RetentionStore = (*Store)(nil)
