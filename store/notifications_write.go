package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/notify"
)

// The writes below lock the user's row first and keep its unread count
// and change sequence in the same transaction (unread.go): each returns
// the notify.Stamp its change is published with.

// SetRead marks notification id of userID read (setting read_at) or unread
// (clearing it) and returns it with the user's unread count. Marking a row
// that is already in that state changes nothing, read_at included. Another
// user's id is ENOTFOUND, as is an id that does not exist.
func (s *Store) SetRead(ctx context.Context, userID, id int64, read bool, now time.Time) (notify.Notification, notify.Stamp, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var readAt *time.Time
	if read {
		t := utc(now)
		readAt = &t
	}
	var (
		r     notificationRow
		stamp notify.Stamp
	)
	err := db.Transaction(func(tx *gorm.DB) error {
		if _, err := s.lockOwner(tx, userID, "set read"); err != nil {
			return err
		}
		res := tx.Model(&notificationRow{}).
			Where("id = ? AND user_id = ? AND read <> ?", id, userID, read).
			Updates(map[string]any{"read": read, "read_at": readAt})
		if res.Error != nil {
			return res.Error
		}
		var delta int64
		switch {
		case res.RowsAffected == 0:
		case read:
			delta = -1
		default:
			delta = 1
		}
		got := tx.Where("id = ? AND user_id = ?", id, userID).Limit(1).Find(&r)
		if got.Error != nil {
			return got.Error
		}
		if got.RowsAffected == 0 {
			return errNotFound("set read", "notification")
		}
		var err error
		stamp, err = bump(tx, userID, delta)
		return err
	})
	if err != nil {
		return notify.Notification{}, notify.Stamp{}, s.translate(ctx, "set read", err)
	}
	return r.notification(), stamp, nil
}

// MarkAllRead marks the unread notifications of userID with id <= upToID
// read (all of them when upToID is 0), and returns how many changed and
// the unread count left.
func (s *Store) MarkAllRead(ctx context.Context, userID, upToID int64, now time.Time) (int64, notify.Stamp, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var (
		changed int64
		stamp   notify.Stamp
	)
	err := db.Transaction(func(tx *gorm.DB) error {
		if _, _, err := s.lockUser(tx, userID); err != nil {
			return err
		}
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
		stamp, err = bump(tx, userID, -changed)
		return err
	})
	if err != nil {
		return 0, notify.Stamp{}, s.translate(ctx, "mark all read", err)
	}
	return changed, stamp, nil
}

// DeleteNotification deletes notification id of userID and returns the
// user's unread count. Another user's id is ENOTFOUND, as is an id that
// does not exist.
func (s *Store) DeleteNotification(ctx context.Context, userID, id int64) (notify.Stamp, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var stamp notify.Stamp
	err := db.Transaction(func(tx *gorm.DB) error {
		if _, err := s.lockOwner(tx, userID, "delete notification"); err != nil {
			return err
		}
		var deleted []struct{ Read bool }
		err := tx.Raw("DELETE FROM notifications WHERE id = ? AND user_id = ? RETURNING read", id, userID).
			Scan(&deleted).Error
		if err != nil {
			return err
		}
		if len(deleted) == 0 {
			return errNotFound("delete notification", "notification")
		}
		var delta int64
		if !deleted[0].Read {
			delta = -1
		}
		stamp, err = bump(tx, userID, delta)
		return err
	})
	if err != nil {
		return notify.Stamp{}, s.translate(ctx, "delete notification", err)
	}
	return stamp, nil
}
