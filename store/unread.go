package store

import (
	"maps"
	"slices"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// Each user's unread count is kept in users.unread_count (migration
// 00004) instead of being counted: counting read every unread row of the
// user in every writing transaction, and the cost grew with the backlog.
//
// Every transaction that changes a user's notifications changes the
// count in the same transaction and, on Postgres, first locks the user's
// row FOR NO KEY UPDATE (several users in id order), before touching any
// notification row. So per user these transactions run one after the
// other, the count each one reads under the lock is exact, and the count
// it returns is the committed state right after it. FOR NO KEY UPDATE
// does not conflict with the key-share lock of a foreign key check, so
// creating a session is not held up. The retention sweeper is the one
// writer that locks notification rows first; it takes every lock with
// SKIP LOCKED, never waits, and so cannot deadlock with the others. On
// SQLite the immediate transaction already holds the database's single
// write lock, so nothing is locked by row.

// lockSuffix is what a SELECT of users rows ends with to lock them: FOR
// NO KEY UPDATE on Postgres, nothing on SQLite.
func (s *Store) lockSuffix() string {
	if s.dialect == migrations.Postgres {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// lockUser locks the row of userID (see above) and returns its unread
// count; found is false when the user does not exist.
func (s *Store) lockUser(tx *gorm.DB, userID int64) (unread int64, found bool, err error) {
	var counts []int64
	err = tx.Raw("SELECT unread_count FROM users WHERE id = ?"+s.lockSuffix(), userID).Scan(&counts).Error
	if err != nil || len(counts) == 0 {
		return 0, false, err
	}
	return counts[0], true, nil
}

// lockOwner is lockUser for a change to one notification of userID: an
// unknown user owns no notification, so it is the not-found of op.
func (s *Store) lockOwner(tx *gorm.DB, userID int64, op string) (unread int64, err error) {
	unread, found, err := s.lockUser(tx, userID)
	if err == nil && !found {
		err = errNotFound(op, "notification")
	}
	return unread, err
}

// lockUsers locks the rows of userIDs in id order and returns the unread
// count of each one that exists.
func (s *Store) lockUsers(tx *gorm.DB, userIDs []int64) (map[int64]int64, error) {
	return readCounts(tx, sortedDistinct(userIDs), " ORDER BY id"+s.lockSuffix())
}

// bump adds delta to the unread count of userID and one to its change
// sequence (users.seq, migration 00006), and returns both new values: the
// stamp of a change the user's sockets must see. The caller holds the
// user's lock.
func bump(tx *gorm.DB, userID, delta int64) (notify.Stamp, error) {
	var rows []notify.Stamp
	err := tx.Raw("UPDATE users SET unread_count = unread_count + ?, seq = seq + 1 WHERE id = ? RETURNING unread_count AS unread, seq",
		delta, userID).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return notify.Stamp{}, err // a user deleted meanwhile has no count to keep
	}
	return rows[0], nil
}

// addUnreadMany adds deltas[user] to the unread count of each user, a
// few hundred users per statement, and, with sequence, as much to the
// user's seq (one per new notification); it returns each user's seq after
// (nil without sequence). The caller holds the users' locks.
func addUnreadMany(tx *gorm.DB, deltas map[int64]int64, sequence bool) (map[int64]int64, error) {
	users := slices.Sorted(maps.Keys(deltas))
	var seqs map[int64]int64
	if sequence {
		seqs = make(map[int64]int64, len(users))
	}
	set, ret := "", ""
	if sequence {
		set, ret = ", seq = users.seq + d.n", " RETURNING users.id, users.seq"
	}
	for _, batch := range chunks(users, catchUpBatch) {
		args := make([]any, 0, 2*len(batch))
		for _, uid := range batch {
			args = append(args, uid, deltas[uid])
		}
		// The casts type the VALUES columns, which Postgres would
		// otherwise take for text.
		sql := "WITH d (id, n) AS (VALUES " + valuesList("(CAST(? AS BIGINT), CAST(? AS BIGINT))", len(batch)) +
			") UPDATE users SET unread_count = unread_count + d.n" + set + " FROM d WHERE users.id = d.id" + ret
		if !sequence {
			if err := tx.Exec(sql, args...).Error; err != nil {
				return nil, err
			}
			continue
		}
		var rows []struct{ ID, Seq int64 }
		if err := tx.Raw(sql, args...).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			seqs[r.ID] = r.Seq
		}
	}
	return seqs, nil
}

// unreadCounts returns the kept unread count of each of userIDs (0 for
// an unknown user) without locking.
func unreadCounts(tx *gorm.DB, userIDs []int64) (map[int64]int64, error) {
	counts, err := readCounts(tx, userIDs, "")
	if err != nil {
		return nil, err
	}
	for _, id := range userIDs {
		if _, ok := counts[id]; !ok {
			counts[id] = 0
		}
	}
	return counts, nil
}

// readCounts reads the unread count of each of userIDs that exists, in
// chunks in the order of userIDs; suffix ends each SELECT (an ORDER BY
// and a lock).
func readCounts(tx *gorm.DB, userIDs []int64, suffix string) (map[int64]int64, error) {
	counts := make(map[int64]int64, len(userIDs))
	for _, ids := range chunks(userIDs, maxIDsPerQuery) {
		var rows []struct {
			ID          int64
			UnreadCount int64
		}
		err := tx.Raw("SELECT id, unread_count FROM users WHERE id IN ?"+suffix, ids).Scan(&rows).Error
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			counts[r.ID] = r.UnreadCount
		}
	}
	return counts, nil
}
