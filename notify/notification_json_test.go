package notify_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// Notification.AppendJSON writes what json.Marshal writes, byte for byte,
// and so do the frames built with it: clients and the OpenAPI checks see
// no difference.
func TestNotificationAppendJSON(t *testing.T) {
	ptr := func(s string) *string { return &s }
	at := func(t time.Time) *time.Time { return &t }
	paris := time.FixedZone("CET", 3600)
	base := notifytest.Notification()
	cases := map[string]func(*notify.Notification){
		"fixture":            func(*notify.Notification) {},
		"no url, no data":    func(n *notify.Notification) { n.URL, n.Data = nil, nil },
		"read":               func(n *notify.Notification) { n.Read, n.ReadAt = true, at(n.CreatedAt.Add(time.Minute)) },
		"html and quotes":    func(n *notify.Notification) { n.Title = `<b>"Tom & Jerry"</b> \ done` },
		"control characters": func(n *notify.Notification) { n.Content = "a\nb\tc\rd\be\ff\x00g\x1fh\x7f" },
		"unicode":            func(n *notify.Notification) { n.Title = "Vidéo prête ✓ 日本 🎬" },
		"line separators":    func(n *notify.Notification) { n.Content = "a\u2028b\u2029c" },
		"invalid utf-8":      func(n *notify.Notification) { n.Title = "a\xffb\xc3" },
		"url escaped":        func(n *notify.Notification) { n.URL = ptr("/search?q=a&b=<c>") },
		"data with html":     func(n *notify.Notification) { n.Data = json.RawMessage(`{"html":"<i>&</i>"}`) },
		"data not compact":   func(n *notify.Notification) { n.Data = json.RawMessage("{ \"a\" : [1, 2] }") },
		"data with escapes":  func(n *notify.Notification) { n.Data = json.RawMessage(`{"q":"\"\\ \u00e9 \n"}`) },
		"data null":          func(n *notify.Notification) { n.Data = json.RawMessage(`null`) },
		"zone offset":        func(n *notify.Notification) { n.CreatedAt = n.CreatedAt.In(paris) },
		"whole seconds":      func(n *notify.Notification) { n.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		"year 10000":         func(n *notify.Notification) { n.ReadAt = at(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) },
		"negative id":        func(n *notify.Notification) { n.ID = -7 },
		"longest id and times": func(n *notify.Notification) {
			n.ID = math.MinInt64
			n.CreatedAt = time.Date(2026, 12, 6, 7, 0, 0, 123456789, time.FixedZone("", -(9*3600+30*60)))
			n.Read, n.ReadAt = true, at(n.CreatedAt.Add(time.Hour))
		},
		"empty": func(n *notify.Notification) { *n = notify.Notification{} },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			n := base
			change(&n)
			checkAppendJSON(t, n)
		})
	}
	t.Run("invalid data fails as json.Marshal does", func(t *testing.T) {
		n := base
		n.Data = json.RawMessage(`{"a":`)
		if _, err := n.AppendJSON(nil); err == nil {
			t.Fatal("invalid data encoded")
		}
	})
}

// checkAppendJSON compares AppendJSON and the frames with json.Marshal.
func checkAppendJSON(t *testing.T, n notify.Notification) {
	t.Helper()
	want, werr := json.Marshal(n)
	got, err := n.AppendJSON([]byte("prefix"))
	if (err != nil) != (werr != nil) {
		t.Fatalf("AppendJSON error %v, json.Marshal error %v", err, werr)
	}
	if werr != nil {
		return
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("AppendJSON\n got %s\nwant prefix%s", got, want)
	}
	// The buffers are sized by JSONSize: it must hold the whole encoding
	// when nothing is escaped, or every frame would be allocated twice.
	if unescaped(n) && len(want) > n.JSONSize() {
		t.Fatalf("JSONSize %d, but %d bytes encoded: %s", n.JSONSize(), len(want), want)
	}
	frame := notify.NotificationFrame(n, 42).Data
	wantFrame := `{"type":"notification","notification":` + string(want) + `,"unread_count":42}`
	if string(frame) != wantFrame {
		t.Fatalf("NotificationFrame\n got %s\nwant %s", frame, wantFrame)
	}
	updated := notify.UpdatedFrame(n, 0).Data
	if want := strings.Replace(wantFrame, `"notification","notification"`, `"notification_updated","notification"`, 1); string(updated) != strings.Replace(want, `:42}`, `:0}`, 1) {
		t.Fatalf("UpdatedFrame %s", updated)
	}
}

func FuzzNotificationAppendJSON(f *testing.F) {
	f.Add(int64(1), "title", "content", "/url", []byte(`{"a":1}`), false, int64(1764985000123456789))
	f.Add(int64(-3), "<&>\u2028", "\x00\xff", "", []byte(` [1, "<"] `), true, int64(-62135596800))
	f.Fuzz(func(t *testing.T, id int64, title, content, url string, data []byte, read bool, nanos int64) {
		created := time.Unix(0, nanos).UTC()
		n := notify.Notification{ID: id, Title: title, Content: content, Style: notify.Style(title),
			Read: read, CreatedAt: created}
		if url != "" {
			n.URL = &url
		}
		if len(data) > 0 && json.Valid(data) {
			n.Data = data
		}
		if read {
			n.ReadAt = &created
		}
		checkAppendJSON(t, n)
	})
}

// unescaped reports whether json.Marshal writes the strings and the data
// of n as they are, only quoted.
func unescaped(n notify.Notification) bool {
	strs := []string{n.Title, n.Content, string(n.Style)}
	if n.URL != nil {
		strs = append(strs, *n.URL)
	}
	for _, s := range strs {
		if enc, err := json.Marshal(s); err != nil || string(enc) != `"`+s+`"` {
			return false
		}
	}
	enc, err := json.Marshal(n.Data)
	return err == nil && (len(n.Data) == 0 || bytes.Equal(enc, n.Data))
}
