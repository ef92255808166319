package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// Bounds on bind parameters per statement, well under Postgres' 65535 and
// SQLite's 32766: at most maxIDsPerQuery ids in an IN list, and
// insertBatch rows (5 parameters each) per INSERT.
const (
	maxIDsPerQuery = 1000
	insertBatch    = 500
)

// InsertNotifications stores one copy of n for each existing user in
// userIDs in one transaction, skipping unknown ids and repeated ones, and
// returns the rows in the order of userIDs with the unread count of each
// of those users, read in the same transaction.
//
// Per user, id order equals commit order: on Postgres the transaction
// first locks the users' rows in id order (so two bulk inserts cannot
// deadlock) before any id is drawn, and a concurrent insert for the same
// user waits until this one commits; on SQLite the immediate transaction
// already serialises writers. A client resuming after id N therefore never
// misses a row committed later with a smaller id.
func (s *Store) InsertNotifications(ctx context.Context, userIDs []int64, n notify.NewNotification, now time.Time) ([]notify.Notification, map[int64]int64, error) {
	if len(userIDs) == 0 {
		return nil, map[int64]int64{}, nil
	}
	if n.Style == "" {
		n.Style = notify.StyleInfo
	}
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	created := utc(now)
	var (
		out    []notify.Notification
		counts map[int64]int64
	)
	err := db.Transaction(func(tx *gorm.DB) error {
		existing, err := s.lockUsers(tx, userIDs)
		if err != nil {
			return err
		}
		targets := make([]int64, 0, len(existing))
		for _, id := range userIDs {
			if existing[id] {
				targets = append(targets, id)
				delete(existing, id) // a repeated id gets one copy
			}
		}
		if len(targets) == 0 {
			counts = map[int64]int64{}
			return nil
		}
		ids := make(map[int64]int64, len(targets))
		for _, batch := range chunks(targets, insertBatch) {
			if err := insertRows(tx, batch, n, created, ids); err != nil {
				return err
			}
		}
		out = make([]notify.Notification, len(targets))
		for i, uid := range targets {
			out[i] = notify.Notification{
				ID: ids[uid], UserID: uid, Title: n.Title, Content: n.Content,
				Style: n.Style, CreatedAt: created,
			}
		}
		counts, err = unreadCounts(tx, targets)
		return err
	})
	if err != nil {
		return nil, nil, translate(ctx, "insert notifications", err)
	}
	return out, counts, nil
}

// lockUsers returns which of userIDs exist. On Postgres it also locks
// their rows in id order for the rest of the transaction. FOR NO KEY
// UPDATE conflicts with itself, so inserts for one user queue up, but not
// with the key-share lock a foreign key check takes, so creating a session
// is not held up.
func (s *Store) lockUsers(tx *gorm.DB, userIDs []int64) (map[int64]bool, error) {
	sorted := sortedDistinct(userIDs)
	lock := ""
	if s.dialect == migrations.Postgres {
		lock = " FOR NO KEY UPDATE"
	}
	existing := make(map[int64]bool, len(sorted))
	for _, ids := range chunks(sorted, maxIDsPerQuery) {
		var found []int64
		if err := tx.Raw("SELECT id FROM users WHERE id IN ? ORDER BY id"+lock, ids).Scan(&found).Error; err != nil {
			return nil, err
		}
		for _, id := range found {
			existing[id] = true
		}
	}
	return existing, nil
}

// insertRows inserts one row per user of batch in a single statement and
// records each new id in ids. Each user appears once per call, so the
// returned user_id says which row got which id whatever order RETURNING
// uses.
func insertRows(tx *gorm.DB, batch []int64, n notify.NewNotification, created time.Time, ids map[int64]int64) error {
	var sql strings.Builder
	sql.WriteString("INSERT INTO notifications (user_id, title, content, style, created_at) VALUES ")
	args := make([]any, 0, 5*len(batch))
	for i, uid := range batch {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, uid, n.Title, n.Content, string(n.Style), created)
	}
	sql.WriteString(" RETURNING id, user_id")
	var rows []struct {
		ID     int64
		UserID int64
	}
	if err := tx.Raw(sql.String(), args...).Scan(&rows).Error; err != nil {
		return err
	}
	if len(rows) != len(batch) {
		return fmt.Errorf("inserted %d rows, want %d", len(rows), len(batch))
	}
	for _, r := range rows {
		ids[r.UserID] = r.ID
	}
	return nil
}

// SetRead marks notification id of userID read (setting read_at) or unread
// (clearing it) and returns it with the user's unread count. Marking a row
// that is already in that state changes nothing, read_at included. Another
// user's id is ENOTFOUND, as is an id that does not exist.
func (s *Store) SetRead(ctx context.Context, userID, id int64, read bool, now time.Time) (notify.Notification, int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var readAt *time.Time
	if read {
		t := utc(now)
		readAt = &t
	}
	var (
		r      notificationRow
		unread int64
	)
	err := db.Transaction(func(tx *gorm.DB) error {
		err := tx.Model(&notificationRow{}).
			Where("id = ? AND user_id = ? AND read <> ?", id, userID, read).
			Updates(map[string]any{"read": read, "read_at": readAt}).Error
		if err != nil {
			return err
		}
		res := tx.Where("id = ? AND user_id = ?", id, userID).Limit(1).Find(&r)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNotFound("set read", "notification")
		}
		unread, err = unreadCount(tx, userID)
		return err
	})
	if err != nil {
		return notify.Notification{}, 0, translate(ctx, "set read", err)
	}
	return r.notification(), unread, nil
}

// MarkAllRead marks the unread notifications of userID with id <= upToID
// read (all of them when upToID is 0), and returns how many changed and
// the unread count left.
func (s *Store) MarkAllRead(ctx context.Context, userID, upToID int64, now time.Time) (int64, int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var changed, unread int64
	err := db.Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&notificationRow{}).Where("user_id = ? AND NOT read", userID)
		if upToID != 0 {
			q = q.Where("id <= ?", upToID)
		}
		res := q.Updates(map[string]any{"read": true, "read_at": utc(now)})
		if res.Error != nil {
			return res.Error
		}
		changed = res.RowsAffected
		var err error
		unread, err = unreadCount(tx, userID)
		return err
	})
	if err != nil {
		return 0, 0, translate(ctx, "mark all read", err)
	}
	return changed, unread, nil
}

// DeleteNotification deletes notification id of userID and returns the
// user's unread count. Another user's id is ENOTFOUND, as is an id that
// does not exist.
func (s *Store) DeleteNotification(ctx context.Context, userID, id int64) (int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var unread int64
	err := db.Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND user_id = ?", id, userID).Delete(&notificationRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNotFound("delete notification", "notification")
		}
		var err error
		unread, err = unreadCount(tx, userID)
		return err
	})
	if err != nil {
		return 0, translate(ctx, "delete notification", err)
	}
	return unread, nil
}
