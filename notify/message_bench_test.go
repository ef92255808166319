package notify_test

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// BenchmarkNotificationFrame serialises one notification frame, once per
// notification whatever its number of sockets.
//
//	go test -run '^$' -bench NotificationFrame -benchmem ./notify/
func BenchmarkNotificationFrame(b *testing.B) {
	n := notifytest.Notification()
	b.ReportAllocs()
	for b.Loop() {
		if f := notify.NotificationFrame(n, 3); len(f.Data) == 0 {
			b.Fatal("empty frame")
		}
	}
}

// BenchmarkHelloFrame serialises the hello, once per connect.
//
//	go test -run '^$' -bench HelloFrame -benchmem ./notify/
func BenchmarkHelloFrame(b *testing.B) {
	u := notify.User{ID: 4211, ExternalID: "auth0|5f7c1e2d9a", Name: "Ada Lovelace", CreatedAt: time.Date(2026, 12, 6, 7, 0, 0, 123456000, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		if f := notify.HelloFrame(u, 3); len(f) == 0 {
			b.Fatal("empty frame")
		}
	}
}
