package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
)

// InsertAt stores a notification for userID created at created and, when
// readAt is not zero, marks it read at readAt: a row of a chosen age, for
// the retention tests of the store and of the sweeper. It returns the id.
func InsertAt(tb testing.TB, st *store.Store, userID int64, created, readAt time.Time) int64 {
	tb.Helper()
	ctx := context.Background()
	rows, _, err := InsertNotifications(ctx, st, []int64{userID}, notify.NewNotification{Title: "old", Style: notify.StyleInfo}, created)
	if err != nil || len(rows) != 1 {
		tb.Fatalf("insert at %s: %v (%d rows)", created, err, len(rows))
	}
	if !readAt.IsZero() {
		if _, _, err := st.SetRead(ctx, userID, rows[0].ID, true, readAt); err != nil {
			tb.Fatalf("set read at %s: %v", readAt, err)
		}
	}
	return rows[0].ID
}

// Remaining returns the ids of userID's notifications, ascending (at most
// 200: what a retention test leaves).
func Remaining(tb testing.TB, st *store.Store, userID int64) []int64 {
	tb.Helper()
	rows, _, err := st.ListNotifications(context.Background(), userID, notify.ListQuery{Limit: 200})
	if err != nil {
		tb.Fatalf("list: %v", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	return ids
}
