package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// The reads of a socket's connect, one at a time: allocs/op is the
// figure to compare (BENCHMARKS.md, "Profiles and where the time goes").
//
//	go test -run '^$' -bench BenchmarkConnectReads -benchmem ./store/
func BenchmarkConnectReads(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	u := storetest.User(b, st, "bench")
	if _, _, err := storetest.InsertNotifications(ctx, st, []int64{u.ID}, notify.NewNotification{Title: "t", Style: notify.StyleInfo}, time.Now()); err != nil {
		b.Fatal(err)
	}
	b.Run("MaxNotificationID", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if id, err := st.MaxNotificationID(ctx, u.ID); err != nil || id == 0 {
				b.Fatalf("max id %d, %v", id, err)
			}
		}
	})
	b.Run("UnreadCount", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if n, err := st.UnreadCount(ctx, u.ID); err != nil || n != 1 {
				b.Fatalf("unread %d, %v", n, err)
			}
		}
	})
	b.Run("SessionBySecretHash", func(b *testing.B) {
		_, err := st.CreateSession(ctx, notify.Session{UserID: u.ID, SecretHash: []byte("0123456789abcdef0123456789abcdef"), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := st.SessionBySecretHash(ctx, []byte("0123456789abcdef0123456789abcdef")); err != nil {
				b.Fatal(err)
			}
		}
	})
}
