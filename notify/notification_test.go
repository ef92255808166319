package notify_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

func TestNewNotificationNormalize(t *testing.T) {
	tests := []struct {
		name      string
		in        notify.NewNotification
		wantCode  string
		wantField string
		wantStyle notify.Style
	}{
		{name: "defaults style to info", in: notify.NewNotification{Title: "t"}, wantStyle: notify.StyleInfo},
		{name: "keeps warning", in: notify.NewNotification{Title: "t", Style: "warning"}, wantStyle: notify.StyleWarning},
		{name: "keeps error", in: notify.NewNotification{Title: "t", Style: "error"}, wantStyle: notify.StyleError},
		{name: "missing title", in: notify.NewNotification{}, wantCode: notify.EINVALID, wantField: "title"},
		{name: "title of 200 code points", in: notify.NewNotification{Title: strings.Repeat("é", 200)}, wantStyle: notify.StyleInfo},
		{name: "title of 200 emoji", in: notify.NewNotification{Title: strings.Repeat("🔔", 200)}, wantStyle: notify.StyleInfo},
		{name: "title of 201 code points", in: notify.NewNotification{Title: strings.Repeat("a", 201)}, wantCode: notify.EINVALID, wantField: "title"},
		{name: "content of 4000", in: notify.NewNotification{Title: "t", Content: strings.Repeat("ü", 4000)}, wantStyle: notify.StyleInfo},
		{name: "content of 4001", in: notify.NewNotification{Title: "t", Content: strings.Repeat("a", 4001)}, wantCode: notify.EINVALID, wantField: "content"},
		{name: "NUL in title", in: notify.NewNotification{Title: "a\x00b"}, wantCode: notify.EINVALID, wantField: "title"},
		{name: "NUL in content", in: notify.NewNotification{Title: "t", Content: "\x00"}, wantCode: notify.EINVALID, wantField: "content"},
		{name: "invalid UTF-8", in: notify.NewNotification{Title: "\xff"}, wantCode: notify.EINVALID, wantField: "title"},
		{name: "unknown style", in: notify.NewNotification{Title: "t", Style: "success"}, wantCode: notify.EINVALID, wantField: "style"},
		{name: "style is case-sensitive", in: notify.NewNotification{Title: "t", Style: "INFO"}, wantCode: notify.EINVALID, wantField: "style"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.in
			err := n.Normalize()
			if got := notify.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if tt.wantCode != "" {
				if msg := notify.ErrorMessage(err); !strings.HasPrefix(msg, tt.wantField+":") {
					t.Errorf("message %q does not name field %q", msg, tt.wantField)
				}
				return
			}
			if n.Style != tt.wantStyle {
				t.Errorf("style = %q, want %q", n.Style, tt.wantStyle)
			}
		})
	}
}

func TestEventValidate(t *testing.T) {
	tests := []struct {
		name string
		ev   notify.Event
		ok   bool
	}{
		{"simple", notify.Event{Type: "task_progress"}, true},
		{"with data", notify.Event{Type: "a", Data: json.RawMessage(`{"x":1}`)}, true},
		{"64 chars", notify.Event{Type: "a" + strings.Repeat("b", 63)}, true},
		{"65 chars", notify.Event{Type: "a" + strings.Repeat("b", 64)}, false},
		{"empty", notify.Event{}, false},
		{"leading digit", notify.Event{Type: "1a"}, false},
		{"upper case", notify.Event{Type: "Task"}, false},
		{"dash", notify.Event{Type: "task-progress"}, false},
		{"data too big", notify.Event{Type: "a", Data: json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)}, false},
		{"data not JSON", notify.Event{Type: "a", Data: json.RawMessage(`{`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ev.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && notify.ErrorCode(err) != notify.EINVALID {
				t.Errorf("code = %q, want invalid_request", notify.ErrorCode(err))
			}
		})
	}
}

func TestValidateUsernameAndPassword(t *testing.T) {
	for _, name := range []string{"abc", "Alice", "a.b-c_d", strings.Repeat("x", 64)} {
		if err := notify.ValidateUsername(name); err != nil {
			t.Errorf("ValidateUsername(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", "ab", strings.Repeat("x", 65), "a b", "é!x", "al/ice", "a\x00bc"} {
		if code := notify.ErrorCode(notify.ValidateUsername(name)); code != notify.EINVALID {
			t.Errorf("ValidateUsername(%q) code = %q, want invalid_request", name, code)
		}
	}
	if err := notify.ValidatePassword(strings.Repeat("é", 8)); err != nil {
		t.Errorf("8 code points: %v", err)
	}
	for _, pw := range []string{"short", strings.Repeat("a", 257), "abcdefg\x00"} {
		if code := notify.ErrorCode(notify.ValidatePassword(pw)); code != notify.EINVALID {
			t.Errorf("ValidatePassword(len %d) code = %q, want invalid_request", len(pw), code)
		}
	}
}

func TestErrorCode(t *testing.T) {
	if got := notify.ErrorCode(nil); got != "" {
		t.Errorf("nil: %q", got)
	}
	wrapped := fmtWrap(notify.Errorf(notify.ENOTFOUND, "x"))
	if got := notify.ErrorCode(wrapped); got != notify.ENOTFOUND {
		t.Errorf("wrapped: %q", got)
	}
	if got := notify.ErrorCode(errPlain("boom")); got != notify.EINTERNAL {
		t.Errorf("plain: %q", got)
	}
	if got := notify.ErrorMessage(errPlain("secret detail")); strings.Contains(got, "secret") {
		t.Errorf("internal message leaks detail: %q", got)
	}
}
