package store

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// What the cluster listener reads: the rows a doorbell names, what its
// sockets missed while it was down, and the events stored for it.

// catchUpBatch is how many users one catch-up query covers (2 bind
// parameters each).
const catchUpBatch = 500

// NotificationsByIDs returns the notifications with those ids, ascending;
// ids that no longer exist are left out.
func (s *Store) NotificationsByIDs(ctx context.Context, ids []int64) ([]notify.Notification, error) {
	if s.dialect == migrations.Postgres {
		return s.notificationsByIDsPG(ctx, sortedDistinct(ids))
	}
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var out []notify.Notification
	for _, batch := range chunks(sortedDistinct(ids), maxIDsPerQuery) {
		var rows []notificationRow
		if err := db.Where("id IN ?", batch).Order("id").Find(&rows).Error; err != nil {
			return nil, s.translate(ctx, "notifications by ids", err)
		}
		for _, r := range rows {
			out = append(out, r.notification())
		}
	}
	return out, nil
}

// notificationsByIDsSQL reads rows by id with the ids as one array
// parameter: one statement for any number of ids, and no list of bind
// parameters for gorm to build and Postgres to parse. It is sent with
// QueryExecModeExec, so Postgres plans each call for its array and for the
// table as it is now. A cached statement goes to a generic plan after five
// calls and keeps it until the table's statistics change: made for a
// notifications table of a few rows, that plan is a sequential scan, which
// it stays while the table grows, until autovacuum analyzes it again a
// minute or more later (TestReadBackAfterTheTableGrew; docs/decisions.md,
// "postgres broker: read-backs planned per call"). At 1,000 ids the generic
// plan was also 2-3 times slower than the gorm IN list
// (BenchmarkNotificationsByIDs).
const notificationsByIDsSQL = `SELECT id, user_id, title, content, style, url, data, read, created_at, read_at
FROM notifications WHERE id = ANY($1) ORDER BY id`

// notificationsByIDsPG is NotificationsByIDs on Postgres, through pgx.
func (s *Store) notificationsByIDsPG(ctx context.Context, ids []int64) ([]notify.Notification, error) {
	var out []notify.Notification
	var r notificationRow
	dest := []any{&r.ID, &r.UserID, &r.Title, &r.Content, &r.Style, &r.URL, &r.Data, &r.Read, &r.CreatedAt, &r.ReadAt}
	each := func() error {
		out = append(out, r.notification())
		return nil
	}
	err := s.queryEach(ctx, notificationsByIDsSQL, []any{pgx.QueryExecModeExec, ids}, dest, each)
	if err != nil {
		return nil, s.translate(ctx, "notifications by ids", err)
	}
	return out, nil
}

// NotificationsAfter returns, for each user in after, that user's
// notifications with an id above after[user], at most limit per user,
// ascending by id: what a listener's sockets missed while it was down. A
// user with limit rows may have more.
func (s *Store) NotificationsAfter(ctx context.Context, after map[int64]int64, limit int) ([]notify.Notification, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	users := slices.Sorted(maps.Keys(after))
	var out []notify.Notification
	for _, batch := range chunks(users, catchUpBatch) {
		args := make([]any, 0, 2*len(batch)+1)
		for _, uid := range batch {
			args = append(args, uid, after[uid])
		}
		args = append(args, limit)
		// The casts type the VALUES columns, which Postgres would
		// otherwise take for text.
		sql := "WITH floors (user_id, after_id) AS (VALUES " +
			valuesList("(CAST(? AS BIGINT), CAST(? AS BIGINT))", len(batch)) + `)
			SELECT id, user_id, title, content, style, url, data, read, created_at, read_at FROM (
				SELECT n.id, n.user_id, n.title, n.content, n.style, n.url, n.data, n.read, n.created_at, n.read_at,
					ROW_NUMBER() OVER (PARTITION BY n.user_id ORDER BY n.id) AS rn
				FROM notifications n JOIN floors f ON n.user_id = f.user_id AND n.id > f.after_id
			) t WHERE rn <= ? ORDER BY id`
		var rows []notificationRow
		if err := db.Raw(sql, args...).Scan(&rows).Error; err != nil {
			return nil, s.translate(ctx, "notifications after", err)
		}
		for _, r := range rows {
			out = append(out, r.notification())
		}
	}
	slices.SortFunc(out, func(a, b notify.Notification) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// UnreadCounts returns the unread count of each of userIDs (0 included).
func (s *Store) UnreadCounts(ctx context.Context, userIDs []int64) (map[int64]int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	counts, err := unreadCounts(db, sortedDistinct(userIDs))
	if err != nil {
		return nil, s.translate(ctx, "unread counts", err)
	}
	return counts, nil
}

// ExistingSessions returns which of ids are still sessions (logged out
// ones are deleted).
func (s *Store) ExistingSessions(ctx context.Context, ids []int64) (map[int64]bool, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	found := make(map[int64]bool, len(ids))
	for _, batch := range chunks(sortedDistinct(ids), maxIDsPerQuery) {
		var rows []int64
		if err := db.Model(&sessionRow{}).Where("id IN ?", batch).Pluck("id", &rows).Error; err != nil {
			return nil, s.translate(ctx, "existing sessions", err)
		}
		for _, id := range rows {
			found[id] = true
		}
	}
	return found, nil
}

// clusterEventRow is a row of cluster_events.
type clusterEventRow struct {
	ID        int64
	UserID    int64
	Type      string
	Data      string
	CreatedAt time.Time
}

func (clusterEventRow) TableName() string { return "cluster_events" }

// ClusterEvent returns the event stored as cluster_events row id and its
// user (ENOTFOUND once swept).
func (s *Store) ClusterEvent(ctx context.Context, id int64) (int64, notify.Event, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var rows []clusterEventRow
	if err := db.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return 0, notify.Event{}, s.translate(ctx, "cluster event", err)
	}
	if len(rows) == 0 {
		return 0, notify.Event{}, errNotFound("cluster event", "event")
	}
	e := notify.Event{Type: rows[0].Type}
	if rows[0].Data != "" {
		e.Data = json.RawMessage(rows[0].Data)
	}
	return rows[0].UserID, e, nil
}

// SweepClusterEvents deletes the cluster_events rows created before
// before and returns how many.
func (s *Store) SweepClusterEvents(ctx context.Context, before time.Time) (int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	res := db.Where("created_at < ?", utc(before)).Delete(&clusterEventRow{})
	if res.Error != nil {
		return 0, s.translate(ctx, "sweep cluster events", res.Error)
	}
	return res.RowsAffected, nil
}
