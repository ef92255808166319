package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// DeleteReadBefore deletes at most limit read notifications that were
// read before t, and returns how many it deleted. The retention sweeper
// calls it until it deletes fewer than limit.
func (s *Store) DeleteReadBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	return s.deleteBatch(ctx, "delete read before", "read AND read_at < ?", false, t, limit)
}

// DeleteUnreadBefore deletes at most limit unread notifications created
// before t, and returns how many it deleted.
func (s *Store) DeleteUnreadBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	return s.deleteBatch(ctx, "delete unread before", "NOT read AND created_at < ?", true, t, limit)
}

// deleteBatch deletes at most limit notifications matching cond (one "?"
// for t) in one short transaction, so a large backlog is removed in
// pieces that never hold locks (or SQLite's single write lock) for long.
// The rows are unread when unread is set, read otherwise; deleting unread
// rows takes them off their users' kept counts.
//
// On Postgres the rows are locked FOR UPDATE SKIP LOCKED, so the sweepers
// of several instances share the work instead of queueing on each other's
// rows, and then their users FOR NO KEY UPDATE SKIP LOCKED: every other
// writer locks the user before the rows (unread.go), so the sweeper must
// never wait for a user while holding rows. Rows of a user that is busy
// right now are left for the next batch.
//
// cond is checked again on the rows being deleted: on Postgres a row that
// a user marks read or unread between the SELECT and the DELETE is
// re-evaluated against the DELETE's own WHERE only, so without the
// repetition a notification marked unread a moment ago could be deleted
// as read.
func (s *Store) deleteBatch(ctx context.Context, op, cond string, unread bool, t time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	rowLock, userLock := "", ""
	if s.dialect == migrations.Postgres {
		rowLock, userLock = " FOR UPDATE SKIP LOCKED", " FOR NO KEY UPDATE SKIP LOCKED"
	}
	cutoff := utc(t)
	var deleted int64
	err := db.Transaction(func(tx *gorm.DB) error {
		var found []struct{ ID, UserID int64 }
		err := tx.Raw("SELECT id, user_id FROM notifications WHERE "+cond+" LIMIT ?"+rowLock, cutoff, limit).
			Scan(&found).Error
		if err != nil || len(found) == 0 {
			return err
		}
		userIDs := make([]int64, len(found))
		for i, r := range found {
			userIDs[i] = r.UserID
		}
		locked, err := readCounts(tx, sortedDistinct(userIDs), userLock)
		if err != nil {
			return err
		}
		var ids []int64
		for _, r := range found {
			if _, ok := locked[r.UserID]; ok {
				ids = append(ids, r.ID)
			}
		}
		removed := make(map[int64]int64, len(locked))
		for _, batch := range chunks(ids, maxIDsPerQuery) {
			var users []int64
			err := tx.Raw("DELETE FROM notifications WHERE id IN ? AND "+cond+" RETURNING user_id", batch, cutoff).
				Scan(&users).Error
			if err != nil {
				return err
			}
			for _, u := range users {
				removed[u]--
			}
			deleted += int64(len(users))
		}
		if !unread {
			return nil // read rows are not in the counts
		}
		_, err = addUnreadMany(tx, removed, false)
		return err
	})
	if err != nil {
		return 0, s.translate(ctx, op, err)
	}
	return deleted, nil
}

// The sweeper runs on the store.
var _ notify.RetentionStore = (*Store)(nil)
