package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// BenchmarkInsertBatch measures one InsertBatch transaction of n rows over
// 64 users, one after the other: the latency a group-commit batch costs.
//
//	go test -run '^$' -bench BenchmarkInsertBatch ./store/
func BenchmarkInsertBatch(b *testing.B) {
	for _, n := range []int{1, 16, 100, 256} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			st := storetest.Open(b)
			const users = 64
			ids := make([]int64, users)
			for i := range ids {
				ids[i] = storetest.User(b, st, fmt.Sprintf("bench%d", i)).ID
			}
			items := make([]notify.NewItem, n)
			for i := range items {
				items[i] = item(ids[i%users], fmt.Sprintf("bench %d", i))
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := st.InsertBatch(context.Background(), items, t0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
