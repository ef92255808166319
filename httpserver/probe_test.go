package httpserver

import (
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// TestSessionProbe: GET /api/session answers 200 whether or not the
// caller is signed in (a logged-out visit must not log a failed request in
// the browser console), with the user or null.
func TestSessionProbe(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice")
	tests := []struct {
		name string
		r    req
		want int64 // user id, 0 for null
	}{
		{"no session", req{}, 0},
		{"cookie", req{cookie: secret}, alice.ID},
		{"bearer", req{secret: secret}, alice.ID},
		{"unknown cookie", req{cookie: "not-a-session"}, 0},
		{"bearer of another scheme", req{header: map[string]string{"Authorization": "Basic x"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.method, tt.r.path = "GET", "/api/session"
			var out struct {
				User *notify.User `json:"user"`
			}
			e.do(t, tt.r).Want(t, http.StatusOK).Decode(t, &out)
			switch {
			case tt.want == 0 && out.User != nil:
				t.Fatalf("user = %+v, want null", out.User)
			case tt.want != 0 && (out.User == nil || out.User.ID != tt.want):
				t.Fatalf("user = %+v, want id %d", out.User, tt.want)
			}
		})
	}
	t.Run("after logout", func(t *testing.T) {
		e.do(t, req{method: "DELETE", path: "/api/sessions/current", secret: secret}).Want(t, http.StatusNoContent)
		var out struct {
			User *notify.User `json:"user"`
		}
		e.do(t, req{method: "GET", path: "/api/session", cookie: secret}).Want(t, http.StatusOK).Decode(t, &out)
		if out.User != nil {
			t.Fatalf("user = %+v after logout, want null", out.User)
		}
	})
}
