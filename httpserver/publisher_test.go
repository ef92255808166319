package httpserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

func TestPublisherAuth(t *testing.T) {
	e := newEnv(t)
	_, secret := e.user(t, "alice")
	routes := []req{
		{method: "POST", path: "/api/publisher/users", body: `{"username":"x1x"}`},
		{method: "POST", path: "/api/publisher/users/1/sessions"},
		{method: "POST", path: "/api/publisher/users/1/notifications", body: `{"title":"t"}`},
		{method: "POST", path: "/api/publisher/users/1/events", body: `{"type":"t"}`},
		{method: "POST", path: "/api/publisher/notifications", body: `{"user_ids":[1],"title":"t"}`},
	}
	creds := []struct {
		name string
		set  func(*req)
	}{
		{"missing key", func(*req) {}},
		{"wrong key", func(r *req) { r.apiKey = "publisher-key-on" }},
		{"key with a suffix", func(r *req) { r.apiKey = testAPIKey + "x" }},
		{"key as basic auth", func(r *req) { r.header = map[string]string{"Authorization": "Basic " + testAPIKey} }},
		{"key without scheme", func(r *req) { r.header = map[string]string{"Authorization": testAPIKey} }},
		{"user session", func(r *req) { r.secret = secret }},
		{"user cookie", func(r *req) { r.cookie = secret }},
	}
	for _, route := range routes {
		for _, c := range creds {
			t.Run(route.path+" "+c.name, func(t *testing.T) {
				r := route
				c.set(&r)
				e.do(t, r).wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
			})
		}
	}
	t.Run("every configured key works", func(t *testing.T) {
		for _, k := range []string{testAPIKey, testAPIKey2} {
			e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: k, body: `{"username":"alice"}`}).want(t, http.StatusOK)
		}
	})
	t.Run("no key configured refuses all", func(t *testing.T) {
		e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Auth.APIKeys = []string{""} }})
		for _, k := range []string{"", " ", testAPIKey} {
			got := e.do(t, req{method: "POST", path: "/api/publisher/users", header: map[string]string{"Authorization": "Bearer " + k}, body: `{"username":"alice"}`}).
				wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
			if want := "publisher API disabled: no auth.api_keys configured"; got.Error.Message != want {
				t.Errorf("message = %q, want %q", got.Error.Message, want)
			}
		}
	})
	t.Run("wrong key is told apart from no key", func(t *testing.T) {
		got := e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: testAPIKey + "x", body: `{"username":"alice"}`}).
			wantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		if got.Error.Message != "missing or invalid API key" {
			t.Errorf("message = %q, want the wrong-key message", got.Error.Message)
		}
	})
	t.Run("keys never logged", func(t *testing.T) {
		if logs := e.logs.String(); strings.Contains(logs, testAPIKey) || strings.Contains(logs, secret) {
			t.Fatal("a key or secret reached the logs")
		}
	})
}

func TestPublisherUsers(t *testing.T) {
	e := newEnv(t)
	var first, again struct {
		User notify.User `json:"user"`
	}
	e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: testAPIKey, body: `{"username":"Bob"}`}).
		want(t, http.StatusCreated).decode(t, &first)
	if first.User.Username != "Bob" || first.User.ID == 0 {
		t.Fatalf("user = %+v", first.User)
	}
	e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: testAPIKey, body: `{"username":"bob"}`}).
		want(t, http.StatusOK).decode(t, &again)
	if again.User.ID != first.User.ID || again.User.Username != "Bob" {
		t.Fatalf("existing user = %+v, want %+v", again.User, first.User)
	}
	bad := []struct{ name, body, field string }{
		{"no username", `{}`, "username"},
		{"short", `{"username":"ab"}`, "username"},
		{"bad characters", `{"username":"a/b/c"}`, "username"},
		{"not a string", `{"username":["bob"]}`, "username"},
		{"unknown field", `{"username":"bob","password":"x"}`, "password"},
		{"empty body", ``, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: testAPIKey, body: tc.body}).
				wantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
}

func TestPublisherSessions(t *testing.T) {
	e := newEnv(t)
	var u struct {
		User notify.User `json:"user"`
	}
	e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: testAPIKey, body: `{"username":"bob"}`}).
		want(t, http.StatusCreated).decode(t, &u)
	var out struct {
		Secret    string    `json:"secret"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	e.do(t, req{method: "POST", path: fmt.Sprintf("/api/publisher/users/%d/sessions", u.User.ID), apiKey: testAPIKey}).
		want(t, http.StatusCreated).decode(t, &out)
	if out.Secret == "" || time.Until(out.ExpiresAt) < 59*time.Minute {
		t.Fatalf("session = %+v", out)
	}
	var me struct {
		User          notify.User           `json:"user"`
		UnreadCount   int64                 `json:"unread_count"`
		Notifications []notify.Notification `json:"notifications"`
		WSURL         string                `json:"ws_url"`
	}
	e.do(t, req{method: "GET", path: "/api/me", secret: out.Secret}).want(t, http.StatusOK).decode(t, &me)
	if me.User.ID != u.User.ID {
		t.Fatalf("me = %+v", me.User)
	}
	for _, id := range []string{"0", "-1", "x", "9223372036854775807", "99999999999999999999"} {
		t.Run("unknown user "+id, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/publisher/users/" + id + "/sessions", apiKey: testAPIKey}).
				wantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
		})
	}
}

func TestPublisherNotify(t *testing.T) {
	e := newEnv(t)
	alice, secret := e.user(t, "alice")
	path := fmt.Sprintf("/api/publisher/users/%d/notifications", alice.ID)

	var out struct {
		Notification notify.Notification `json:"notification"`
	}
	e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: `{"title":"Hi","content":"there"}`}).
		want(t, http.StatusCreated).decode(t, &out)
	n := out.Notification
	if n.ID == 0 || n.Title != "Hi" || n.Content != "there" || n.Style != notify.StyleInfo || n.Read || n.ReadAt != nil || n.CreatedAt.IsZero() {
		t.Fatalf("notification = %+v", n)
	}
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications", secret: secret}).want(t, http.StatusOK).decode(t, &l)
	if len(l.Notifications) != 1 || l.Notifications[0].ID != n.ID {
		t.Fatalf("inbox = %v", listIDs(l))
	}

	good := []struct{ name, body string }{
		{"warning", `{"title":"t","style":"warning"}`},
		{"error", `{"title":"t","style":"error"}`},
		{"200 emoji title", `{"title":"` + strings.Repeat("😀", 200) + `"}`},
		{"4000 code point content", `{"title":"t","content":"` + strings.Repeat("é", 4000) + `"}`},
		{"null content", `{"title":"t","content":null}`},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: tc.body}).want(t, http.StatusCreated)
		})
	}
	bad := []struct{ name, body, field string }{
		{"no title", `{"content":"c"}`, "title"},
		{"empty title", `{"title":""}`, "title"},
		{"201 emoji title", `{"title":"` + strings.Repeat("😀", 201) + `"}`, "title"},
		{"4001 code point content", `{"title":"t","content":"` + strings.Repeat("é", 4001) + `"}`, "content"},
		{"NUL in title", `{"title":"a\u0000b"}`, "title"},
		{"NUL in content", `{"title":"t","content":"\u0000"}`, "content"},
		{"unknown style", `{"title":"t","style":"loud"}`, "style"},
		{"style case", `{"title":"t","style":"Info"}`, "style"},
		{"style not a string", `{"title":"t","style":1}`, "style"},
		{"title not a string", `{"title":{"a":1}}`, "title"},
		{"unknown field", `{"title":"t","user_id":2}`, "user_id"},
		{"empty body", ``, "body"},
		{"trailing data", `{"title":"t"}x`, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: tc.body}).
				wantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
	for _, id := range []string{"0", "-1", "abc", "9223372036854775807", "99999999999999999999"} {
		t.Run("unknown user "+id, func(t *testing.T) {
			r := e.do(t, req{method: "POST", path: "/api/publisher/users/" + id + "/notifications", apiKey: testAPIKey, body: `{"title":"t"}`})
			if got := r.wantError(t, http.StatusNotFound, notify.ENOTFOUND, ""); got.Error.Message != userNotFound {
				t.Fatalf("message %q", got.Error.Message)
			}
		})
	}
}

func TestPublisherNotifyMany(t *testing.T) {
	e := newEnv(t)
	alice, aliceSecret := e.user(t, "alice")
	bob, bobSecret := e.user(t, "bob")
	_, carolSecret := e.user(t, "carol")

	var out struct {
		Created int `json:"created"`
	}
	body := fmt.Sprintf(`{"user_ids":[%d,%d,%d,%d,999999],"title":"Maintenance","style":"warning"}`, alice.ID, bob.ID, alice.ID, alice.ID)
	e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey, body: body}).
		want(t, http.StatusCreated).decode(t, &out)
	if out.Created != 2 {
		t.Fatalf("created = %d, want 2 (duplicates merged, unknown skipped)", out.Created)
	}
	for _, c := range []struct {
		secret string
		want   int
	}{{aliceSecret, 1}, {bobSecret, 1}, {carolSecret, 0}} {
		var l listJSON
		e.do(t, req{method: "GET", path: "/api/notifications", secret: c.secret}).want(t, http.StatusOK).decode(t, &l)
		if len(l.Notifications) != c.want {
			t.Fatalf("inbox has %d, want %d", len(l.Notifications), c.want)
		}
		if c.want == 1 && (l.Notifications[0].Title != "Maintenance" || l.Notifications[0].Style != notify.StyleWarning) {
			t.Fatalf("notification = %+v", l.Notifications[0])
		}
	}

	t.Run("only unknown ids", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey, body: `{"user_ids":[999998,999999],"title":"t"}`}).
			want(t, http.StatusCreated).decode(t, &out)
		if out.Created != 0 {
			t.Fatalf("created = %d", out.Created)
		}
	})
	t.Run("1000 ids", func(t *testing.T) {
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fmt.Sprint(i + 1)
		}
		e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey,
			body: `{"user_ids":[` + strings.Join(ids, ",") + `],"title":"t"}`}).want(t, http.StatusCreated).decode(t, &out)
		if out.Created != 3 {
			t.Fatalf("created = %d, want 3", out.Created)
		}
	})

	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	bad := []struct{ name, body, field string }{
		{"no ids", `{"title":"t"}`, "user_ids"},
		{"empty ids", `{"user_ids":[],"title":"t"}`, "user_ids"},
		{"null ids", `{"user_ids":null,"title":"t"}`, "user_ids"},
		{"1001 ids", `{"user_ids":[` + strings.Join(many, ",") + `],"title":"t"}`, "user_ids"},
		{"zero id", `{"user_ids":[1,0],"title":"t"}`, "user_ids"},
		{"negative id", `{"user_ids":[-1],"title":"t"}`, "user_ids"},
		{"string id", `{"user_ids":["1"],"title":"t"}`, "user_ids"},
		{"float id", `{"user_ids":[1.5],"title":"t"}`, "user_ids"},
		{"overflowing id", `{"user_ids":[9223372036854775808],"title":"t"}`, "user_ids"},
		{"not a list", `{"user_ids":1,"title":"t"}`, "user_ids"},
		{"no title", fmt.Sprintf(`{"user_ids":[%d]}`, alice.ID), "title"},
		{"NUL in content", fmt.Sprintf(`{"user_ids":[%d],"title":"t","content":"x\u0000"}`, alice.ID), "content"},
		{"title not a string", fmt.Sprintf(`{"user_ids":[%d],"title":1}`, alice.ID), "title"},
		{"style not a string", fmt.Sprintf(`{"user_ids":[%d],"title":"t","style":[]}`, alice.ID), "style"},
		{"bad style", fmt.Sprintf(`{"user_ids":[%d],"title":"t","style":"huge"}`, alice.ID), "style"},
		{"unknown field", fmt.Sprintf(`{"user_ids":[%d],"title":"t","users":[1]}`, alice.ID), "users"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey, body: tc.body}).
				wantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
}
