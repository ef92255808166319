package notify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// BenchmarkServiceNotify measures Service.Notify with 16 concurrent
// callers spread over 64 users, one socket each, on SQLite or (with
// NOTIFYD_TEST_DATABASE_URL) Postgres. "rows=1" commits each call in a
// transaction of its own, for comparison with group commit.
//
//	go test -run '^$' -bench BenchmarkServiceNotify -benchtime 5s ./notify/
func BenchmarkServiceNotify(b *testing.B) {
	for _, cfg := range []notify.BatchConfig{{MaxRows: 1}, notifytest.BatchConfig()} {
		b.Run(fmt.Sprintf("rows=%d/wait=%s", cfg.MaxRows, cfg.MaxWait), func(b *testing.B) {
			st := storetest.Open(b)
			hub := notify.NewHub(notify.HubConfig{SendQueue: 1 << 16, MaxPerUser: 16})
			svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), cfg, nil, nil)
			const users = 64
			ids := make([]int64, users)
			for i := range ids {
				ids[i] = storetest.User(b, st, fmt.Sprintf("bench%d", i)).ID
				sub := register(b, hub, ids[i], int64(i+1))
				sub.GoLive(0)
				go func() { // the socket's writer, minus the socket
					for {
						if _, err := notifytest.Next(b.Context(), sub); err != nil {
							return
						}
					}
				}()
			}
			var next atomic.Int64
			b.SetParallelism(8) // 16 callers on 2 cores
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					if _, err := svc.Notify(context.Background(), ids[i%users], notify.NewNotification{Title: "bench"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "notifications/s")
			b.StopTimer()
			if err := svc.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
