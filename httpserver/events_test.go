package httpserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

func TestPublisherEvents(t *testing.T) {
	e := newEnv(t)
	alice := e.external(t, "alice")
	bob := e.external(t, "bob")
	sock1 := e.subscribe(t, alice.ID, 1)
	sock2 := e.subscribe(t, alice.ID, 2)
	bobSock := e.subscribe(t, bob.ID, 3)
	path := "/api/publisher/users/alice/events"

	var out struct {
		Sockets int `json:"sockets"`
	}
	e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: `{"type":"task_progress","data":{ "task_id" : "t1", "progress": 0.5 }}`}).
		Want(t, http.StatusAccepted).Decode(t, &out)
	if out.Sockets != 2 {
		t.Fatalf("sockets = %d, want 2", out.Sockets)
	}
	for _, s := range []*notify.Subscriber{sock1, sock2} {
		f := frame(t, s, time.Second)
		ev, _ := f["event"].(map[string]any)
		data, _ := ev["data"].(map[string]any)
		if f["type"] != "event" || ev["type"] != "task_progress" || data["task_id"] != "t1" || data["progress"] != 0.5 {
			t.Fatalf("frame = %v", f)
		}
	}
	wantNoFrame(t, bobSock)

	t.Run("no data, no socket", func(t *testing.T) {
		e.external(t, "carol")
		e.do(t, req{method: "POST", path: "/api/publisher/users/carol/events", apiKey: testAPIKey, body: `{"type":"ping"}`}).
			Want(t, http.StatusAccepted).Decode(t, &out)
		if out.Sockets != 0 {
			t.Fatalf("sockets = %d", out.Sockets)
		}
	})
	t.Run("16 KiB of data", func(t *testing.T) {
		data := `"` + strings.Repeat("x", notify.MaxEventDataBytes-2) + `"`
		e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: `{"type":"big","data":` + data + `}`}).Want(t, http.StatusAccepted)
		frame(t, sock1, time.Second)
		frame(t, sock2, time.Second)
	})
	t.Run("whitespace does not count", func(t *testing.T) {
		data := `[` + strings.Repeat(" ", notify.MaxEventDataBytes) + `1]`
		e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: `{"type":"spaced","data":` + data + `}`}).Want(t, http.StatusAccepted)
		if f := frame(t, sock1, time.Second); fmt.Sprint(f["event"].(map[string]any)["data"]) != "[1]" {
			t.Fatalf("frame = %v", f)
		}
		frame(t, sock2, time.Second)
	})

	bad := []struct{ name, body, field string }{
		{"no type", `{"data":1}`, "type"},
		{"upper case", `{"type":"Task"}`, "type"},
		{"leading digit", `{"type":"1task"}`, "type"},
		{"dash", `{"type":"task-progress"}`, "type"},
		{"65 characters", `{"type":"` + strings.Repeat("a", 65) + `"}`, "type"},
		{"NUL", `{"type":"a\u0000"}`, "type"},
		{"type not a string", `{"type":true}`, "type"},
		{"data over 16 KiB", `{"type":"big","data":"` + strings.Repeat("x", notify.MaxEventDataBytes-1) + `"}`, "data"},
		{"unknown field", `{"type":"t","payload":1}`, "payload"},
		{"bad JSON data", `{"type":"t","data":{]}`, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
	wantNoFrame(t, sock1)
	t.Run("unknown user: no socket, nothing created", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/publisher/users/nobody-yet/events", apiKey: testAPIKey, body: `{"type":"t"}`}).
			Want(t, http.StatusAccepted).Decode(t, &out)
		if out.Sockets != 0 {
			t.Fatalf("sockets = %d", out.Sockets)
		}
		if _, err := e.Accounts.ExternalUser(context.Background(), "nobody-yet"); notify.ErrorCode(err) != notify.ENOTFOUND {
			t.Fatalf("the event created a user: %v", err)
		}
	})
	t.Run("a self-signup account is not reachable", func(t *testing.T) {
		dave, _ := e.api.User(t, "dave")
		sock := e.subscribe(t, dave.ID, 9)
		e.do(t, req{method: "POST", path: "/api/publisher/users/dave/events", apiKey: testAPIKey, body: `{"type":"t"}`}).
			Want(t, http.StatusAccepted).Decode(t, &out)
		if out.Sockets != 0 {
			t.Fatalf("sockets = %d", out.Sockets)
		}
		wantNoFrame(t, sock)
	})
	t.Run("invalid external id", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/publisher/users/a%20b/events", apiKey: testAPIKey, body: `{"type":"t"}`}).
			WantError(t, http.StatusBadRequest, notify.EINVALID, "external_id")
	})
}
