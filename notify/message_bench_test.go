package notify_test

import (
	"testing"

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
