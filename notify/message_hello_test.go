package notify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// HelloFrame writes what json.Marshal writes for the hello message, byte
// for byte, whatever the user: clients and the OpenAPI checks see no
// difference.
func TestHelloFrame(t *testing.T) {
	created := time.Date(2026, 12, 6, 7, 0, 0, 123456000, time.UTC)
	cases := map[string]notify.User{
		"external":           {ID: 7, ExternalID: "auth0|5f7c1e2d9a", Name: "Ada Lovelace", CreatedAt: created},
		"external, no name":  {ID: 8, ExternalID: "42", CreatedAt: created},
		"self-signup":        {ID: 9, Username: "alice", PasswordHash: "never written", CreatedAt: created},
		"html and quotes":    {ID: 10, ExternalID: "x", Name: `<b>"Tom & Jerry"</b> \ done`, CreatedAt: created},
		"control characters": {ID: 11, ExternalID: "x", Name: "a\nb\tc\x00d\x7f", CreatedAt: created},
		"unicode":            {ID: 12, Username: "zoë", Name: "日本 🎬 a\u2028b", CreatedAt: created},
		"invalid utf-8":      {ID: 13, ExternalID: "x", Name: "a\xffb\xc3", CreatedAt: created},
		"zone offset":        {ID: 14, ExternalID: "x", CreatedAt: created.In(time.FixedZone("CET", 3600))},
		"whole seconds":      {ID: 15, ExternalID: "x", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		"year 10000":         {ID: 16, ExternalID: "x", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"zero":               {},
	}
	for name, u := range cases {
		t.Run(name, func(t *testing.T) {
			for _, unread := range []int64{0, 3, -1} {
				want, werr := json.Marshal(struct {
					Type        string      `json:"type"`
					User        notify.User `json:"user"`
					UnreadCount int64       `json:"unread_count"`
				}{"hello", u, unread})
				if werr != nil {
					// json.Marshal refuses the year 10000; so does HelloFrame,
					// by a panic of mustJSON, as before.
					defer func() {
						if recover() == nil {
							t.Fatalf("HelloFrame encoded what json.Marshal refuses: %v", werr)
						}
					}()
				}
				if got := notify.HelloFrame(u, unread); string(got) != string(want) {
					t.Fatalf("HelloFrame\n got %s\nwant %s", got, want)
				}
			}
		})
	}
}
