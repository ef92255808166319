package notifytest

import (
	"time"

	"github.com/notifyd/notifyd/notify"
)

// Notification is a stored notification of the size notifybench sends
// (about 250 bytes as JSON), with a url and data: the fixture of the hot
// path's benchmarks.
func Notification() notify.Notification {
	url := "/videos/7"
	return notify.Notification{ID: 123456, UserID: 42, Title: "bench",
		Content: "bench t=1764985000000000000 seq=12345", Style: notify.StyleInfo, URL: &url,
		Data: []byte(`{"video_id":7}`), CreatedAt: time.Date(2026, 12, 6, 2, 0, 0, 123456000, time.UTC)}
}
