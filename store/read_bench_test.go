package store_test

import (
	"context"
	"strconv"
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
	b.Run("Position", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, err := st.Position(ctx, u.ID); err != nil || p.Newest == 0 || p.Unread != 1 {
				b.Fatalf("position %+v, %v", p, err)
			}
		}
	})
	// Created once, outside b.Run: with -count above 1 the sub-benchmark
	// runs again, and a second CreateSession of the hash is ECONFLICT.
	hash := []byte("0123456789abcdef0123456789abcdef")
	if _, err := st.CreateSession(ctx, notify.Session{UserID: u.ID, SecretHash: hash, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	b.Run("SessionBySecretHash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s, _, err := st.SessionBySecretHash(ctx, hash); err != nil || s.UserID != u.ID {
				b.Fatalf("session %+v, %v", s, err)
			}
		}
	})
	b.Run("SessionAndPosition", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s, _, p, err := st.SessionAndPosition(ctx, hash); err != nil || s.UserID != u.ID || p.Newest == 0 {
				b.Fatalf("session %+v, position %+v, %v", s, p, err)
			}
		}
	})
}

// The postgres broker's read-back of the rows other instances' doorbells
// name, at the batch sizes a listener sees (a few under light load, up to
// a thousand under a back-to-back one): ns/op and allocs/op.
//
//	NOTIFYD_TEST_DATABASE_URL=... go test -run '^$' -bench BenchmarkNotificationsByIDs -benchmem ./store/
func BenchmarkNotificationsByIDs(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	var users []int64
	for i := range 100 {
		users = append(users, storetest.User(b, st, "bench"+strconv.Itoa(i)).ID)
	}
	var all []int64
	for range 20 {
		inserted, _, err := storetest.InsertNotifications(ctx, st, users, notify.NewNotification{Title: "t", Content: "bench", Style: notify.StyleInfo}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range inserted {
			all = append(all, n.ID)
		}
	}
	for _, size := range []int{2, 10, 100, 1000} {
		// Every other row of the newest ones: ids that are not a range.
		var ids []int64
		for i := len(all) - 1; i >= 0 && len(ids) < size; i -= 2 {
			ids = append(ids, all[i])
		}
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got, err := st.NotificationsByIDs(ctx, ids); err != nil || len(got) != size {
					b.Fatalf("%d rows, %v; want %d", len(got), err, size)
				}
			}
		})
	}
}
