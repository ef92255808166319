package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
)

// InsertNotifications stores one copy of n for each existing user in
// userIDs through st.InsertBatch, in one transaction, skipping unknown ids
// and repeated ones, and returns the rows in the order of userIDs with the
// unread count of each of those users, kept in the same transaction. Tests
// use it to write rows the service would refuse or to date them (now);
// production writes through notify.Service, which calls InsertBatch too.
func InsertNotifications(ctx context.Context, st *store.Store, userIDs []int64, n notify.NewNotification, now time.Time) ([]notify.Notification, map[int64]int64, error) {
	items := make([]notify.NewItem, 0, len(userIDs))
	seen := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		if !seen[id] { // a repeated id gets one copy
			seen[id] = true
			items = append(items, notify.NewItem{UserID: id, NewNotification: n})
		}
	}
	rows, _, err := st.InsertBatch(ctx, items, nil, now)
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

// IdempotencyRecord returns what is stored with an idempotency key, found
// false when the key is not taken. It asks the way the service does, by
// claiming the key in a transaction (one probe notification for the
// external user "storetest-key-probe"): a claim that wins stores the key
// and the probe, so call it last on a key, or on one expected taken.
func IdempotencyRecord(tb testing.TB, st *store.Store, scope []byte, key string) (o notify.ClaimOutcome, found bool) {
	tb.Helper()
	items := []notify.NewItem{{ExternalID: "storetest-key-probe", NewNotification: notify.NewNotification{Title: "probe", Style: notify.StyleInfo}}}
	answer := func([]notify.Inserted) (int, []byte) { return 201, []byte("probe") }
	c := notify.Claim{Idempotency: notify.Idempotency{Scope: scope, Key: key, RequestHash: []byte("probe"), Answer: answer}, Count: 1}
	_, outcomes, err := st.InsertBatch(context.Background(), items, []notify.Claim{c}, time.Now())
	if err != nil || len(outcomes) != 1 {
		tb.Fatalf("probe idempotency key %q: %d outcomes, %v", key, len(outcomes), err)
	}
	return outcomes[0], !outcomes[0].Won
}
