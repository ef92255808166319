package notify_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

func TestNotificationURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"/capsules/42", true},
		{"/", true},
		{"/search?q=a b#frag", true},
		{"https://app.example/capsules/42?tab=video", true},
		{"HTTP://APP.EXAMPLE/x", true},
		{"http://127.0.0.1:8000/", true},
		{"https://" + strings.Repeat("a", notify.MaxURLLen-len("https://")), true},
		{"https://" + strings.Repeat("a", notify.MaxURLLen-len("https://")+1), false},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{" javascript:alert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"vbscript:msgbox", false},
		{"//evil.example/x", false},
		{"/\\evil.example/x", false},
		{"https://a.example/\\x", false},
		{"capsules/42", false},
		{"https://", false},
		{"https:///path", false},
		{"ftp://files.example/x", false},
		{"/a\nb", false},
		{"/a\tb", false},
		{"/a\x7fb", false},
		{"/a\u0085b", false},
		{"/\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			n := notify.NewNotification{Title: "t", URL: tt.url}
			err := n.Normalize()
			if (err == nil) != tt.ok {
				t.Fatalf("Normalize(url %q) = %v, want ok %v", tt.url, err, tt.ok)
			}
			if err != nil && (notify.ErrorCode(err) != notify.EINVALID || !strings.HasPrefix(notify.ErrorMessage(err), "url: ")) {
				t.Fatalf("error %v does not name url", err)
			}
		})
	}
}

func TestNotificationData(t *testing.T) {
	big := `{"k":"` + strings.Repeat("x", notify.MaxDataBytes-8) + `"}`
	tests := []struct {
		name string
		data string
		want string // compacted; "" for none; "!" for an error
	}{
		{"absent", "", ""},
		{"null", "null", ""},
		{"object kept as given", `{"capsule_id": 42, "b": [1, 2.50], "a": "x"}`, `{"capsule_id":42,"b":[1,2.50],"a":"x"}`},
		{"empty object", `{}`, `{}`},
		{"exactly 4 KiB", big, big},
		{"one byte more", `{"k":"` + strings.Repeat("x", notify.MaxDataBytes-7) + `"}`, "!"},
		{"array", `[1]`, "!"},
		{"string", `"x"`, "!"},
		{"number", `42`, "!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := notify.NewNotification{Title: "t", Data: json.RawMessage(tt.data)}
			err := n.Normalize()
			if tt.want == "!" {
				if notify.ErrorCode(err) != notify.EINVALID || !strings.HasPrefix(notify.ErrorMessage(err), "data: ") {
					t.Fatalf("Normalize(data %.40q) = %v, want an error naming data", tt.data, err)
				}
				return
			}
			if err != nil || string(n.Data) != tt.want {
				t.Fatalf("Normalize(data %.40q) = %q, %v; want %q", tt.data, n.Data, err, tt.want)
			}
		})
	}
}

func TestValidateExternalID(t *testing.T) {
	for _, id := range []string{"1", "42", "auth0|5f7c8a", "user@example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "a:b=c+d_e.f", strings.Repeat("x", 128)} {
		if err := notify.ValidateExternalID("external_id", id); err != nil {
			t.Errorf("%q refused: %v", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("x", 129), "a b", "a/b", "ä", "a\x00", "a#b", "a%20"} {
		err := notify.ValidateExternalID("external_id", id)
		if notify.ErrorCode(err) != notify.EINVALID || !strings.HasPrefix(notify.ErrorMessage(err), "external_id: ") {
			t.Errorf("%q: %v, want an error naming external_id", id, err)
		}
	}
}

// TestUserJSON: every user form has the same keys, null where absent, and
// never the password hash.
func TestUserJSON(t *testing.T) {
	b, err := json.Marshal(notify.User{ID: 7, ExternalID: "auth0|x", PasswordHash: "secret-hash"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":7,"username":null,"external_id":"auth0|x","name":null,"created_at":"0001-01-01T00:00:00Z"}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
	var back notify.User
	if err := json.Unmarshal(b, &back); err != nil || back.ExternalID != "auth0|x" || back.ID != 7 {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
