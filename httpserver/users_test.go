package httpserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

func TestSignup(t *testing.T) {
	e := newEnv(t)
	e.api.Signup(t, "Alice")

	t.Run("created", func(t *testing.T) {
		var out struct {
			User map[string]any `json:"user"`
		}
		e.do(t, req{method: "POST", path: "/api/users", body: `{"username":"bob.smith-2_x","password":"12345678"}`}).
			Want(t, http.StatusCreated).Decode(t, &out)
		if out.User["username"] != "bob.smith-2_x" || out.User["id"] == nil {
			t.Fatalf("user = %v", out.User)
		}
		if _, err := time.Parse(time.RFC3339, out.User["created_at"].(string)); err != nil {
			t.Fatalf("created_at: %v", err)
		}
		if _, ok := out.User["password_hash"]; ok {
			t.Fatal("password hash leaked")
		}
	})

	bad := []struct {
		name, body, field string
	}{
		{"no username", `{"password":"12345678"}`, "username"},
		{"short username", `{"username":"ab","password":"12345678"}`, "username"},
		{"long username", `{"username":"` + strings.Repeat("a", 65) + `","password":"12345678"}`, "username"},
		{"bad character", `{"username":"al ice","password":"12345678"}`, "username"},
		{"non-ASCII username", `{"username":"alicé","password":"12345678"}`, "username"},
		{"NUL in username", `{"username":"ali\u0000ce","password":"12345678"}`, "username"},
		{"no password", `{"username":"carol"}`, "password"},
		{"short password", `{"username":"carol","password":"1234567"}`, "password"},
		{"long password", `{"username":"carol","password":"` + strings.Repeat("é", 257) + `"}`, "password"},
		{"NUL in password", `{"username":"carol","password":"1234\u00005678"}`, "password"},
		{"username not a string", `{"username":5,"password":"12345678"}`, "username"},
		{"unknown field", `{"username":"carol","password":"12345678","admin":true}`, "admin"},
		{"empty body", ``, "body"},
		{"not an object", `["carol"]`, "body"},
		{"null", `null`, "body"},
		{"syntax error", `{"username":"carol",}`, "body"},
		{"truncated", `{"username":"carol"`, "body"},
		{"trailing data", `{"username":"carol","password":"12345678"} {}`, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/users", body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}

	t.Run("password of 256 code points", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/users", body: `{"username":"dave","password":"` + strings.Repeat("é", 256) + `"}`}).
			Want(t, http.StatusCreated)
	})

	for _, name := range []string{"Alice", "alice", "ALICE"} {
		t.Run("taken "+name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/users", body: map[string]string{"username": name, "password": "12345678"}}).
				WantError(t, http.StatusConflict, notify.ECONFLICT, "username")
		})
	}
}

func TestSignupDisabled(t *testing.T) {
	e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Auth.AllowSignup = false }})
	e.do(t, req{method: "POST", path: "/api/users", body: map[string]string{"username": "alice", "password": testPass}}).
		WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
	// The app's users still come through its backend.
	e.external(t, "alice")
}

func TestMe(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice")
	bob, _ := e.api.User(t, "bob")

	var ids []int64
	for i := range 55 {
		ids = append(ids, e.Notify(t, alice.ID, "n"+string(rune('a'+i%26))).ID)
	}
	e.Notify(t, bob.ID, "bob's")
	// Two read ones at the top must not be listed.
	for _, id := range ids[len(ids)-2:] {
		if _, err := e.Service.SetRead(t.Context(), alice.ID, id, true); err != nil {
			t.Fatal(err)
		}
	}

	var me struct {
		User          notify.User           `json:"user"`
		UnreadCount   int64                 `json:"unread_count"`
		Notifications []notify.Notification `json:"notifications"`
		WSURL         string                `json:"ws_url"`
	}
	e.do(t, req{method: "GET", path: "/api/me", secret: secret}).Want(t, http.StatusOK).Decode(t, &me)
	if me.User.ID != alice.ID || me.User.Username != "alice" {
		t.Errorf("user = %+v", me.User)
	}
	if me.UnreadCount != 53 {
		t.Errorf("unread_count = %d, want 53", me.UnreadCount)
	}
	if me.WSURL != testWSURL {
		t.Errorf("ws_url = %q", me.WSURL)
	}
	if len(me.Notifications) != 50 {
		t.Fatalf("%d notifications, want 50", len(me.Notifications))
	}
	for i, n := range me.Notifications {
		if want := ids[len(ids)-3-i]; n.ID != want || n.Read {
			t.Fatalf("notifications[%d] = id %d read %v, want id %d unread (newest unread first)", i, n.ID, n.Read, want)
		}
	}

	t.Run("empty inbox is []", func(t *testing.T) {
		_, carol := e.api.User(t, "carol")
		r := e.do(t, req{method: "GET", path: "/api/me", secret: carol}).Want(t, http.StatusOK)
		if !strings.Contains(string(r.Body), `"notifications":[]`) {
			t.Fatalf("body %s", r.Body)
		}
	})
	t.Run("cookie auth", func(t *testing.T) {
		e.do(t, req{method: "GET", path: "/api/me", cookie: secret}).Want(t, http.StatusOK)
	})
	t.Run("no credentials", func(t *testing.T) {
		e.do(t, req{method: "GET", path: "/api/me"}).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
	})
}
