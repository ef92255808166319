package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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

// InsertBatch stores one notification per item whose user exists, in one
// transaction with one multi-row INSERT per insertBatch items, and returns
// one notify.Inserted per item in the order of items: the stored row (ID 0
// when the user does not exist) and the user's unread count just after
// that row, as if the items had been inserted one by one. A user may
// appear in several items; each gets its own row.
//
// Per user, id order equals commit order: on Postgres the transaction
// first locks the users' rows in id order (so two batches cannot
// deadlock) before any id is drawn, and a concurrent insert for the same
// user waits until this one commits; on SQLite the immediate transaction
// already serialises writers. A client resuming after id N therefore never
// misses a row committed later with a smaller id. Within the batch, ids
// follow the order of items.
//
// In cluster mode the transaction ends with the doorbell of every row, in
// id order.
func (s *Store) InsertBatch(ctx context.Context, items []notify.NewItem, now time.Time) ([]notify.Inserted, error) {
	out := make([]notify.Inserted, len(items))
	if len(items) == 0 {
		return out, nil
	}
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	created := utc(now)
	err := db.Transaction(func(tx *gorm.DB) error {
		userIDs := make([]int64, len(items))
		for i, it := range items {
			userIDs[i] = it.UserID
		}
		existing, err := s.lockUsers(tx, userIDs)
		if err != nil {
			return err
		}
		// The indexes of the items to insert, in order.
		todo := make([]int, 0, len(items))
		for i, it := range items {
			if existing[it.UserID] {
				todo = append(todo, i)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		for _, chunk := range chunks(todo, insertBatch) {
			if err := insertRows(tx, items, chunk, created, out); err != nil {
				return err
			}
		}
		return s.countAndRing(tx, items, todo, out)
	})
	if err != nil {
		return nil, s.translate(ctx, "insert notifications", err)
	}
	return out, nil
}

// countAndRing reads the unread count of the users of the inserted items
// and gives each row its user's count just after it: the final count
// minus the user's rows inserted after it. Then it rings the doorbell of
// the new rows.
func (s *Store) countAndRing(tx *gorm.DB, items []notify.NewItem, todo []int, out []notify.Inserted) error {
	users := make([]int64, len(todo))
	for k, i := range todo {
		users[k] = items[i].UserID
	}
	counts, err := unreadCounts(tx, sortedDistinct(users))
	if err != nil {
		return err
	}
	// Walked backwards, the count of the user's last row first. The count
	// includes every row inserted here: they are unread and visible to
	// this transaction, and no other can have read them yet.
	for k := len(todo) - 1; k >= 0; k-- {
		i := todo[k]
		out[i].Unread = counts[items[i].UserID]
		counts[items[i].UserID]--
	}
	bell := notify.Doorbell{Kind: notify.BellNew, Rows: make([]notify.BellRow, len(todo))}
	for k, i := range todo {
		bell.Rows[k] = notify.BellRow{User: out[i].UserID, ID: out[i].ID, Unread: out[i].Unread}
	}
	return s.ring(tx, bell)
}

// InsertNotifications stores one copy of n for each existing user in
// userIDs in one transaction, skipping unknown ids and repeated ones, and
// returns the rows in the order of userIDs with the unread count of each
// of those users, read in the same transaction. It is InsertBatch for one
// notification sent to several users.
func (s *Store) InsertNotifications(ctx context.Context, userIDs []int64, n notify.NewNotification, now time.Time) ([]notify.Notification, map[int64]int64, error) {
	items := make([]notify.NewItem, 0, len(userIDs))
	seen := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		if !seen[id] { // a repeated id gets one copy
			seen[id] = true
			items = append(items, notify.NewItem{UserID: id, NewNotification: n})
		}
	}
	rows, err := s.InsertBatch(ctx, items, now)
	if err != nil {
		return nil, nil, err
	}
	var out []notify.Notification
	counts := make(map[int64]int64, len(rows))
	for _, r := range rows {
		if r.ID != 0 {
			out = append(out, r.Notification)
			counts[r.UserID] = r.Unread
		}
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

// insertRows inserts the items at the indexes of chunk in a single
// statement and fills their entries of out.
//
// Which id went to which item: both engines draw the identity of each row
// of a multi-row VALUES list in list order (the same property SQLAlchemy
// relies on for its batched INSERT ... RETURNING), but neither promises
// the order of the RETURNING rows, so those are sorted by id and matched
// to the list in order. The user of every row is checked against its item,
// so a broken assumption fails the transaction instead of mixing up rows.
func insertRows(tx *gorm.DB, items []notify.NewItem, chunk []int, created time.Time, out []notify.Inserted) error {
	var sql strings.Builder
	sql.WriteString("INSERT INTO notifications (user_id, title, content, style, created_at) VALUES ")
	args := make([]any, 0, 5*len(chunk))
	for k, i := range chunk {
		if k > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?)")
		it := items[i]
		args = append(args, it.UserID, it.Title, it.Content, string(styleOf(it.NewNotification)), created)
	}
	sql.WriteString(" RETURNING id, user_id")
	var rows []insertedRow
	if err := tx.Raw(sql.String(), args...).Scan(&rows).Error; err != nil {
		return err
	}
	if len(rows) != len(chunk) {
		return fmt.Errorf("inserted %d rows, want %d", len(rows), len(chunk))
	}
	slices.SortFunc(rows, func(a, b insertedRow) int { return cmp.Compare(a.ID, b.ID) })
	for k, i := range chunk {
		it := items[i]
		if rows[k].UserID != it.UserID {
			return fmt.Errorf("insert: row %d of the statement went to user %d, want %d", k, rows[k].UserID, it.UserID)
		}
		out[i].Notification = notify.Notification{
			ID: rows[k].ID, UserID: it.UserID, Title: it.Title, Content: it.Content,
			Style: styleOf(it.NewNotification), CreatedAt: created,
		}
	}
	return nil
}

// insertedRow is what an INSERT returns for each row.
type insertedRow struct {
	ID     int64
	UserID int64
}

// styleOf is n's style, info when unset.
func styleOf(n notify.NewNotification) notify.Style {
	if n.Style == "" {
		return notify.StyleInfo
	}
	return n.Style
}
