package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// BenchmarkInsertBatch measures one InsertBatch transaction of n rows,
// one after the other: the latency a group-commit batch costs. Rows go
// round-robin to 1,000 users, as in notifybench; each transaction also
// counts its users' unread rows, which grow as the benchmark runs.
//
//	go test -run '^$' -bench BenchmarkInsertBatch ./store/
func BenchmarkInsertBatch(b *testing.B) {
	for _, n := range []int{1, 16, 100, 256} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			st := storetest.Open(b)
			const users = 1000
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
				if _, _, err := st.InsertBatch(context.Background(), items, nil, t0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
