package httpserver

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

type listJSON struct {
	Notifications []notify.Notification `json:"notifications"`
	HasMore       bool                  `json:"has_more"`
}

func listIDs(l listJSON) []int64 {
	var out []int64
	for _, n := range l.Notifications {
		out = append(out, n.ID)
	}
	return out
}

func TestListNotifications(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice")
	bob, _ := e.api.User(t, "bob")
	var ids []int64 // ascending
	for i := range 10 {
		ids = append(ids, e.Notify(t, alice.ID, fmt.Sprint("n", i)).ID)
		e.Notify(t, bob.ID, "bob's")
	}
	for _, id := range []int64{ids[1], ids[3], ids[8]} {
		if _, err := e.Service.SetRead(t.Context(), alice.ID, id, true); err != nil {
			t.Fatal(err)
		}
	}
	rev := slices.Clone(ids)
	slices.Reverse(rev)

	good := []struct {
		name  string
		query string
		want  []int64
		more  bool
	}{
		{"default: newest first", "", rev, false},
		{"limit", "?limit=3", rev[:3], true},
		{"limit equal to the total", "?limit=10", rev, false},
		{"before", fmt.Sprintf("?before=%d&limit=2", ids[5]), []int64{ids[4], ids[3]}, true},
		{"before the first", fmt.Sprintf("?before=%d", ids[0]), nil, false},
		{"after: oldest first", fmt.Sprintf("?after=%d&limit=3", ids[2]), ids[3:6], true},
		{"after the last", fmt.Sprintf("?after=%d", ids[9]), nil, false},
		// after=0 is "from the start", as after_id 0 on the socket.
		{"after 0: from the start", "?after=0&limit=3", ids[:3], true},
		{"after 0: everything", "?after=0", ids, false},
		{"unread after 0", "?unread=true&after=0&limit=2", []int64{ids[0], ids[2]}, true},
		{"unread", "?unread=true", []int64{ids[9], ids[7], ids[6], ids[5], ids[4], ids[2], ids[0]}, false},
		{"unread false is all", "?unread=false&limit=200", rev, false},
		{"unread after", fmt.Sprintf("?unread=true&after=%d", ids[2]), []int64{ids[4], ids[5], ids[6], ids[7], ids[9]}, false},
		{"unknown parameters ignored", "?color=blue", rev, false},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			var l listJSON
			e.do(t, req{method: "GET", path: "/api/notifications" + tc.query, secret: secret}).Want(t, http.StatusOK).Decode(t, &l)
			if got := listIDs(l); !slices.Equal(got, tc.want) || l.HasMore != tc.more {
				t.Fatalf("ids %v more %v, want %v more %v", got, l.HasMore, tc.want, tc.more)
			}
			if l.Notifications == nil {
				t.Fatal("notifications is null, want []")
			}
		})
	}

	bad := []struct{ query, field string }{
		{"?limit=0", "limit"},
		{"?limit=201", "limit"},
		{"?limit=-1", "limit"},
		{"?limit=abc", "limit"},
		{"?limit=", "limit"},
		{"?limit=99999999999999999999", "limit"},
		{"?before=0", "before"},
		{"?before=-5", "before"},
		{"?before=x", "before"},
		{"?before=9223372036854775808", "before"},
		{"?after=-1", "after"},
		{"?after=00", "after"},
		{"?after=", "after"},
		{"?after=1.5", "after"},
		{"?before=5&after=0", "before"},
		{"?before=5&after=2", "before"},
		{"?unread=yes", "unread"},
		{"?unread=1", "unread"},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.query, func(t *testing.T) {
			e.do(t, req{method: "GET", path: "/api/notifications" + tc.query, secret: secret}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
}

func TestReadUnreadDelete(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice")
	bob, bobSecret := e.api.User(t, "bob")
	n := e.Notify(t, alice.ID, "hello")
	bobs := e.Notify(t, bob.ID, "bob's")

	var out struct {
		Notification notify.Notification `json:"notification"`
	}
	e.do(t, req{method: "POST", path: fmt.Sprintf("/api/notifications/%d/read", n.ID), secret: secret}).
		Want(t, http.StatusOK).Decode(t, &out)
	if !out.Notification.Read || out.Notification.ReadAt == nil || out.Notification.ID != n.ID || out.Notification.Title != "hello" {
		t.Fatalf("after read: %+v", out.Notification)
	}
	e.do(t, req{method: "POST", path: fmt.Sprintf("/api/notifications/%d/unread", n.ID), secret: secret}).
		Want(t, http.StatusOK).Decode(t, &out)
	if out.Notification.Read || out.Notification.ReadAt != nil {
		t.Fatalf("after unread: %+v", out.Notification)
	}

	// Ids that name nothing of alice's: 404 with one message, on every route.
	badIDs := []string{"abc", "0", "-1", "+1", "01", "1.5", "1e3", "9223372036854775808", "99999999999999999999",
		"9223372036854775807", fmt.Sprint(bobs.ID), "%00", "%20" + fmt.Sprint(n.ID)}
	for _, id := range badIDs {
		for _, route := range []struct{ method, suffix string }{{"POST", "/read"}, {"POST", "/unread"}, {"DELETE", ""}} {
			t.Run(route.method+" "+id+route.suffix, func(t *testing.T) {
				r := e.do(t, req{method: route.method, path: "/api/notifications/" + id + route.suffix, secret: secret})
				if got := r.WantError(t, http.StatusNotFound, notify.ENOTFOUND, ""); got.Error.Message != notificationNotFound {
					t.Fatalf("message %q, want %q", got.Error.Message, notificationNotFound)
				}
			})
		}
	}
	// Bob's notification is untouched by alice's attempts.
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications", secret: bobSecret}).Want(t, http.StatusOK).Decode(t, &l)
	if len(l.Notifications) != 1 || l.Notifications[0].Read {
		t.Fatalf("bob's inbox: %+v", l.Notifications)
	}

	r := e.do(t, req{method: "DELETE", path: fmt.Sprintf("/api/notifications/%d", n.ID), secret: secret}).Want(t, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Fatalf("204 with body %q", r.Body)
	}
	e.do(t, req{method: "DELETE", path: fmt.Sprintf("/api/notifications/%d", n.ID), secret: secret}).
		WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
	e.do(t, req{method: "POST", path: fmt.Sprintf("/api/notifications/%d/read", n.ID), secret: secret}).
		WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
}

func TestReadAll(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice")
	bob, bobSecret := e.api.User(t, "bob")
	a1 := e.Notify(t, alice.ID, "1")
	a2 := e.Notify(t, alice.ID, "2")
	e.Notify(t, bob.ID, "bob's")
	// Arrives after the user looked: must stay unread.
	a3 := e.Notify(t, alice.ID, "3")

	var out struct {
		Updated int64 `json:"updated"`
	}
	e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: secret, body: map[string]int64{"up_to_id": a2.ID}}).
		Want(t, http.StatusOK).Decode(t, &out)
	if out.Updated != 2 {
		t.Fatalf("updated = %d, want 2", out.Updated)
	}
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications?unread=true", secret: secret}).Want(t, http.StatusOK).Decode(t, &l)
	if got := listIDs(l); !slices.Equal(got, []int64{a3.ID}) {
		t.Fatalf("unread after read-all up to %d: %v, want [%d] (a1 %d)", a2.ID, got, a3.ID, a1.ID)
	}

	bad := []struct{ name, body, field string }{
		{"zero", `{"up_to_id":0}`, "up_to_id"},
		{"negative", `{"up_to_id":-3}`, "up_to_id"},
		{"string", `{"up_to_id":"5"}`, "up_to_id"},
		{"float", `{"up_to_id":1.5}`, "up_to_id"},
		{"overflow", `{"up_to_id":9223372036854775808}`, "up_to_id"},
		{"unknown field", `{"upto":5}`, "upto"},
		{"not an object", `[1]`, "body"},
		{"syntax", `{"up_to_id":}`, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: secret, body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}

	t.Run("no body marks all", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: secret}).Want(t, http.StatusOK).Decode(t, &out)
		if out.Updated != 1 {
			t.Fatalf("updated = %d, want 1", out.Updated)
		}
	})
	t.Run("null and {} mark all", func(t *testing.T) {
		for _, body := range []string{`{"up_to_id":null}`, `{}`, "  "} {
			e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: secret, body: body}).Want(t, http.StatusOK).Decode(t, &out)
			if out.Updated != 0 {
				t.Fatalf("%s: updated = %d, want 0", body, out.Updated)
			}
		}
	})
	t.Run("other users untouched", func(t *testing.T) {
		e.do(t, req{method: "GET", path: "/api/notifications?unread=true", secret: bobSecret}).Want(t, http.StatusOK).Decode(t, &l)
		if len(l.Notifications) != 1 {
			t.Fatalf("bob's unread: %v", listIDs(l))
		}
	})
}
