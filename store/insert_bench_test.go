package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// BenchmarkInsertNotifications measures InsertNotifications, the write of
// the publisher API: one notification for 1 user, and the same for 100
// users in one call (one transaction, one multi-row INSERT), on SQLite, or
// on Postgres when NOTIFYD_TEST_DATABASE_URL is set. "rows/s" is what one
// caller at a time gets; group commit is about many callers at once.
//
//	go test -run '^$' -bench BenchmarkInsertNotifications -count 5 ./store/
func BenchmarkInsertNotifications(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			st := storetest.Open(b)
			ids := make([]int64, n)
			for i := range ids {
				ids[i] = storetest.User(b, st, fmt.Sprintf("bench%d", i)).ID
			}
			nn := notify.NewNotification{
				Title:   "Build finished",
				Content: "The nightly build of notifyd finished in 4 min 12 s: 1,204 tests passed, 0 failed.",
				Style:   notify.StyleInfo,
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				rows, _, err := storetest.InsertNotifications(ctx, st, ids, nn, t0)
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) != n {
					b.Fatalf("inserted %d rows, want %d", len(rows), n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
