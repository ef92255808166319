package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// Limits of one page of ListNotifications. Callers validate the limit;
// the store clamps it again so no caller can ask for an unbounded page.
const (
	minListLimit = 1
	maxListLimit = 200
)

// notificationRow is a row of the notifications table.
type notificationRow struct {
	ID        int64
	UserID    int64
	Title     string
	Content   string
	Style     string
	URL       *string
	Data      *string // the app's JSON object, as text
	Read      bool
	CreatedAt time.Time
	ReadAt    *time.Time
}

func (notificationRow) TableName() string { return "notifications" }

func (r notificationRow) notification() notify.Notification {
	n := notify.Notification{
		ID:        r.ID,
		UserID:    r.UserID,
		Title:     r.Title,
		Content:   r.Content,
		Style:     notify.Style(r.Style),
		URL:       r.URL,
		Read:      r.Read,
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.Data != nil {
		n.Data = json.RawMessage(*r.Data)
	}
	if r.ReadAt != nil {
		t := r.ReadAt.UTC()
		n.ReadAt = &t
	}
	return n
}

// ListNotifications returns one page of userID's notifications and whether
// there are more beyond it.
//
// Without q.After (or q.Forward) the page is newest first, ids below
// q.Before when it is set. With q.After or q.Forward it is oldest first,
// ids above q.After (and below q.Before if both are set). q.UnreadOnly
// keeps unread rows only.
func (s *Store) ListNotifications(ctx context.Context, userID int64, q notify.ListQuery) ([]notify.Notification, bool, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	limit := min(max(q.Limit, minListLimit), maxListLimit)
	tx := db.Where("user_id = ?", userID)
	if q.UnreadOnly {
		// Written exactly as the partial index's predicate, so it is used.
		tx = tx.Where("NOT read")
	}
	if q.Before > 0 {
		tx = tx.Where("id < ?", q.Before)
	}
	if q.IsForward() {
		tx = tx.Where("id > ?", q.After).Order("id ASC")
	} else {
		tx = tx.Order("id DESC")
	}
	// One row more than asked tells whether another page exists.
	var rows []notificationRow
	if err := tx.Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, s.translate(ctx, "list notifications", err)
	}
	hasMore := len(rows) > limit
	if hasMore {
		rows = rows[:limit]
	}
	out := make([]notify.Notification, len(rows))
	for i, r := range rows {
		out[i] = r.notification()
	}
	return out, hasMore, nil
}

// UnreadCount returns how many unread notifications userID has (0 for
// an unknown user): the kept count, one primary-key lookup.
func (s *Store) UnreadCount(ctx context.Context, userID int64) (int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	counts, err := unreadCounts(db, []int64{userID})
	if err != nil {
		return 0, s.translate(ctx, "unread count", err)
	}
	return counts[userID], nil
}

// MaxNotificationID returns the highest notification id of userID, 0 when
// it has none: the cursor of a socket that connects without after_id.
func (s *Store) MaxNotificationID(ctx context.Context, userID int64) (int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	// Find, not Scan: gorm's Scan renders every query with its arguments
	// for a trace recorder (a regexp over the SQL) even when nothing is
	// logged, on every connect.
	var id []int64
	err := db.Model(&notificationRow{}).
		Select("COALESCE(MAX(id), 0)").
		Where("user_id = ?", userID).
		Find(&id).Error
	if err == nil && len(id) != 1 {
		err = fmt.Errorf("%d rows", len(id))
	}
	if err != nil {
		return 0, s.translate(ctx, "max notification id", err)
	}
	return id[0], nil
}

// chunks splits s into consecutive pieces of at most n elements.
func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// sortedDistinct returns the distinct ids in ascending order: the order in
// which rows are locked.
func sortedDistinct(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
