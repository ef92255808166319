package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/notify"
)

// The writes below lock the user's row first and keep its unread count in
// the same transaction (unread.go).

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
		var err error
		if unread, err = s.lockOwner(tx, userID, "set read"); err != nil {
			return err
		}
		res := tx.Model(&notificationRow{}).
			Where("id = ? AND user_id = ? AND read <> ?", id, userID, read).
			Updates(map[string]any{"read": read, "read_at": readAt})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected > 0 {
			delta := int64(1)
			if read {
				delta = -1
			}
			if unread, err = addUnread(tx, userID, delta); err != nil {
				return err
			}
		}
		got := tx.Where("id = ? AND user_id = ?", id, userID).Limit(1).Find(&r)
		if got.Error != nil {
			return got.Error
		}
		if got.RowsAffected == 0 {
			return errNotFound("set read", "notification")
		}
		return s.ring(tx, notify.Doorbell{Kind: notify.BellUpdated, User: userID, ID: id, Unread: unread})
	})
	if err != nil {
		return notify.Notification{}, 0, s.translate(ctx, "set read", err)
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
		var err error
		if unread, _, err = s.lockUser(tx, userID); err != nil {
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
		if changed > 0 {
			if unread, err = addUnread(tx, userID, -changed); err != nil {
				return err
			}
		}
		return s.ring(tx, readAllBell(userID, upToID, unread))
	})
	if err != nil {
		return 0, 0, s.translate(ctx, "mark all read", err)
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
		var err error
		if unread, err = s.lockOwner(tx, userID, "delete notification"); err != nil {
			return err
		}
		var deleted []struct{ Read bool }
		err = tx.Raw("DELETE FROM notifications WHERE id = ? AND user_id = ? RETURNING read", id, userID).
			Scan(&deleted).Error
		if err != nil {
			return err
		}
		if len(deleted) == 0 {
			return errNotFound("delete notification", "notification")
		}
		if !deleted[0].Read {
			if unread, err = addUnread(tx, userID, -1); err != nil {
				return err
			}
		}
		return s.ring(tx, notify.Doorbell{Kind: notify.BellDeleted, User: userID, ID: id, Unread: unread})
	})
	if err != nil {
		return 0, s.translate(ctx, "delete notification", err)
	}
	return unread, nil
}
