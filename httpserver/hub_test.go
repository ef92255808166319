package httpserver

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// TestAPIChangesReachSockets checks that every change made through the
// HTTP API reaches every open socket of that user, in order, and nothing
// reaches another user's socket. The service publishes before the handler
// responds, so each frame is queued by the time the response arrives.
func TestAPIChangesReachSockets(t *testing.T) {
	e := newEnv(t)
	alice, aliceSecret := e.externalSession(t, "alice")
	bob, bobSecret := e.externalSession(t, "bob")
	tab1 := e.subscribe(t, alice.ID, 101)
	tab2 := e.subscribe(t, alice.ID, 102)
	bobTab := e.subscribe(t, bob.ID, 103)

	next := func(t *testing.T, wantType string) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, s := range []*notify.Subscriber{tab1, tab2} {
			f := frame(t, s, time.Second)
			if f["type"] != wantType {
				t.Fatalf("frame %v, want type %s", f, wantType)
			}
			out = append(out, f)
		}
		return out
	}
	note := func(f map[string]any) map[string]any { n, _ := f["notification"].(map[string]any); return n }

	// Publisher → "notification".
	var created struct {
		Notification notify.Notification `json:"notification"`
	}
	e.do(t, req{method: "POST", path: "/api/publisher/users/alice/notifications", apiKey: testAPIKey,
		body: `{"title":"first","style":"warning"}`}).Want(t, http.StatusCreated).Decode(t, &created)
	for _, f := range next(t, "notification") {
		if n := note(f); n["id"] != float64(created.Notification.ID) || n["title"] != "first" || n["style"] != "warning" || f["unread_count"] != 1.0 {
			t.Fatalf("frame %v", f)
		}
	}
	second := e.Notify(t, alice.ID, "second")
	next(t, "notification")

	// Bulk → one "notification" per user.
	e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey,
		body: `{"user_ids":["alice","bob"],"title":"bulk"}`}).Want(t, http.StatusCreated)
	for _, f := range next(t, "notification") {
		if note(f)["title"] != "bulk" || f["unread_count"] != 3.0 {
			t.Fatalf("frame %v", f)
		}
	}
	if f := frame(t, bobTab, time.Second); f["type"] != "notification" || note(f)["title"] != "bulk" || f["unread_count"] != 1.0 {
		t.Fatalf("bob's frame %v", f)
	}

	// Read, unread → "notification_updated".
	path := fmt.Sprintf("/api/notifications/%d", created.Notification.ID)
	e.do(t, req{method: "POST", path: path + "/read", secret: aliceSecret}).Want(t, http.StatusOK)
	for _, f := range next(t, "notification_updated") {
		if n := note(f); n["id"] != float64(created.Notification.ID) || n["read"] != true || f["unread_count"] != 2.0 {
			t.Fatalf("frame %v", f)
		}
	}
	e.do(t, req{method: "POST", path: path + "/unread", secret: aliceSecret}).Want(t, http.StatusOK)
	for _, f := range next(t, "notification_updated") {
		if note(f)["read"] != false || f["unread_count"] != 3.0 {
			t.Fatalf("frame %v", f)
		}
	}

	// Read-all up to an id → "notifications_read" with up_to_id.
	e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: aliceSecret,
		body: fmt.Sprintf(`{"up_to_id":%d}`, second.ID)}).Want(t, http.StatusOK)
	for _, f := range next(t, "notifications_read") {
		if f["up_to_id"] != float64(second.ID) || f["unread_count"] != 1.0 {
			t.Fatalf("frame %v", f)
		}
	}
	// Read-all without a bound → up_to_id null.
	e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: aliceSecret}).Want(t, http.StatusOK)
	for _, f := range next(t, "notifications_read") {
		if v, ok := f["up_to_id"]; !ok || v != nil || f["unread_count"] != 0.0 {
			t.Fatalf("frame %v", f)
		}
	}

	// Delete → "notification_deleted".
	e.do(t, req{method: "DELETE", path: path, secret: aliceSecret}).Want(t, http.StatusNoContent)
	for _, f := range next(t, "notification_deleted") {
		if f["id"] != float64(created.Notification.ID) || f["unread_count"] != 0.0 {
			t.Fatalf("frame %v", f)
		}
	}

	// Bob's attempts on alice's notifications change nothing and tell no
	// one; alice's actions told bob nothing beyond his own bulk copy.
	e.do(t, req{method: "POST", path: fmt.Sprintf("/api/notifications/%d/read", second.ID), secret: bobSecret}).
		WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
	e.do(t, req{method: "DELETE", path: fmt.Sprintf("/api/notifications/%d", second.ID), secret: bobSecret}).
		WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
	wantNoFrame(t, bobTab)
	wantNoFrame(t, tab1)
	wantNoFrame(t, tab2)

	// Bob's own read-all reaches bob only.
	e.do(t, req{method: "POST", path: "/api/notifications/read-all", secret: bobSecret}).Want(t, http.StatusOK)
	if f := frame(t, bobTab, time.Second); f["type"] != "notifications_read" {
		t.Fatalf("bob's frame %v", f)
	}
	wantNoFrame(t, tab1)
	wantNoFrame(t, tab2)
}
