package httpserver

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

func TestPublisherAuth(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	routes := []req{
		{method: "PUT", path: "/api/publisher/users/x1x"},
		{method: "POST", path: "/api/publisher/users/alice/sessions"},
		{method: "POST", path: "/api/publisher/users/alice/notifications", body: `{"title":"t"}`},
		{method: "POST", path: "/api/publisher/users/alice/events", body: `{"type":"t"}`},
		{method: "POST", path: "/api/publisher/notifications", body: `{"user_ids":["alice"],"title":"t"}`},
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
				e.do(t, r).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
			})
		}
	}
	t.Run("every configured key works", func(t *testing.T) {
		for _, k := range []string{testAPIKey, testAPIKey2} {
			r := e.do(t, req{method: "PUT", path: "/api/publisher/users/alice", apiKey: k})
			if r.Status != http.StatusCreated && r.Status != http.StatusOK {
				t.Fatalf("key %q: status %d", k, r.Status)
			}
		}
	})
	t.Run("no key configured refuses all", func(t *testing.T) {
		e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.Auth.APIKeys = []string{""} }})
		for _, k := range []string{"", " ", testAPIKey} {
			got := e.do(t, req{method: "PUT", path: "/api/publisher/users/alice", header: map[string]string{"Authorization": "Bearer " + k}}).
				WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
			if want := "publisher API disabled: no auth.api_keys configured"; got.Error.Message != want {
				t.Errorf("message = %q, want %q", got.Error.Message, want)
			}
		}
	})
	t.Run("wrong key is told apart from no key", func(t *testing.T) {
		got := e.do(t, req{method: "PUT", path: "/api/publisher/users/alice", apiKey: testAPIKey + "x"}).
			WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
		if got.Error.Message != "missing or invalid API key" {
			t.Errorf("message = %q, want the wrong-key message", got.Error.Message)
		}
	})
	t.Run("keys never logged", func(t *testing.T) {
		if logs := e.Logs.String(); strings.Contains(logs, testAPIKey) || strings.Contains(logs, secret) {
			t.Fatal("a key or secret reached the logs")
		}
	})
}

func TestPublisherUsers(t *testing.T) {
	e := newEnv(t)
	type userJSON struct {
		User notify.User `json:"user"`
	}
	var first, again, renamed userJSON
	e.do(t, req{method: "PUT", path: "/api/publisher/users/auth0|5f7c", apiKey: testAPIKey}).
		Want(t, http.StatusCreated).Decode(t, &first)
	if first.User.ExternalID != "auth0|5f7c" || first.User.ID == 0 || first.User.Username != "" || first.User.Name != "" {
		t.Fatalf("user = %+v", first.User)
	}
	e.do(t, req{method: "PUT", path: "/api/publisher/users/auth0|5f7c", apiKey: testAPIKey}).
		Want(t, http.StatusOK).Decode(t, &again)
	if again.User.ID != first.User.ID {
		t.Fatalf("existing user = %+v, want %+v", again.User, first.User)
	}
	e.do(t, req{method: "PUT", path: "/api/publisher/users/auth0|5f7c", apiKey: testAPIKey, body: `{"name":"Alice A."}`}).
		Want(t, http.StatusOK).Decode(t, &renamed)
	if renamed.User.ID != first.User.ID || renamed.User.Name != "Alice A." {
		t.Fatalf("renamed user = %+v", renamed.User)
	}
	t.Run("case-sensitive", func(t *testing.T) {
		var other userJSON
		e.do(t, req{method: "PUT", path: "/api/publisher/users/AUTH0|5f7c", apiKey: testAPIKey}).
			Want(t, http.StatusCreated).Decode(t, &other)
		if other.User.ID == first.User.ID {
			t.Fatal("AUTH0|5f7c resolved to auth0|5f7c")
		}
	})
	t.Run("JSON shape", func(t *testing.T) {
		r := e.do(t, req{method: "PUT", path: "/api/publisher/users/shape", apiKey: testAPIKey, body: `{"name":"S"}`}).Want(t, http.StatusCreated)
		var raw map[string]map[string]any
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatal(err)
		}
		u := raw["user"]
		if u["username"] != nil || u["external_id"] != "shape" || u["name"] != "S" || len(u) != 5 {
			t.Fatalf("user JSON %s", r.Body)
		}
	})
	bad := []struct{ name, path, body, field string }{
		{"bad characters", "/api/publisher/users/a%20b", ``, "external_id"},
		{"non-ASCII", "/api/publisher/users/%C3%A4", ``, "external_id"},
		{"129 characters", "/api/publisher/users/" + strings.Repeat("x", 129), ``, "external_id"},
		{"name not a string", "/api/publisher/users/ok", `{"name":1}`, "name"},
		{"name too long", "/api/publisher/users/ok", `{"name":"` + strings.Repeat("n", 201) + `"}`, "name"},
		{"unknown field", "/api/publisher/users/ok", `{"username":"bob"}`, "username"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "PUT", path: tc.path, apiKey: testAPIKey, body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
	t.Run("the old routes are gone", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/publisher/users", apiKey: testAPIKey, body: `{"username":"bob"}`}).
			WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
	})
}

// TestPublisherCannotReachSignupAccount reproduces the takeover of issue
// 8: an attacker signs up as "Dave", then the app publishes to its own
// user "dave". The app's user is a distinct user, and the attacker sees
// nothing of what was sent to it, over HTTP or on a socket.
func TestPublisherCannotReachSignupAccount(t *testing.T) {
	e := newEnv(t)
	attacker, attackerSecret := e.api.User(t, "Dave")
	sub := e.subscribe(t, attacker.ID, 0)

	var created struct {
		User notify.User `json:"user"`
	}
	e.do(t, req{method: "PUT", path: "/api/publisher/users/dave", apiKey: testAPIKey}).
		Want(t, http.StatusCreated).Decode(t, &created)
	if created.User.ID == attacker.ID {
		t.Fatal("the publisher's dave is the attacker's account")
	}
	for _, r := range []req{
		{method: "POST", path: "/api/publisher/users/dave/notifications", body: `{"title":"Invoice 42","content":"private"}`},
		{method: "POST", path: "/api/publisher/users/Dave/notifications", body: `{"title":"Invoice 43","content":"private"}`},
		{method: "POST", path: "/api/publisher/notifications", body: `{"user_ids":["dave","Dave","DAVE"],"title":"Invoice 44"}`},
	} {
		r.apiKey = testAPIKey
		e.do(t, r).Want(t, http.StatusCreated)
	}
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications", secret: attackerSecret}).Want(t, http.StatusOK).Decode(t, &l)
	if len(l.Notifications) != 0 {
		t.Fatalf("the attacker sees %d notifications", len(l.Notifications))
	}
	wantNoFrame(t, sub)
	_, daveSecret := e.externalSession(t, "dave")
	e.do(t, req{method: "GET", path: "/api/notifications", secret: daveSecret}).Want(t, http.StatusOK).Decode(t, &l)
	if len(l.Notifications) != 2 {
		t.Fatalf("the app's dave has %d notifications, want 2", len(l.Notifications))
	}
	t.Run("signup cannot claim an external id", func(t *testing.T) {
		// A self-signup account is found by name only: the external
		// user "erin" does not make the name taken, nor does the
		// signup reach it.
		ext := e.external(t, "erin")
		erin, _ := e.api.User(t, "erin")
		if erin.ID == ext.ID || erin.ExternalID != "" {
			t.Fatalf("external erin %+v; signup erin %+v", ext, erin)
		}
	})
}

func TestPublisherSessions(t *testing.T) {
	e := newEnv(t)
	u := e.external(t, "bob")
	var out struct {
		Secret    string      `json:"secret"`
		ExpiresAt time.Time   `json:"expires_at"`
		User      notify.User `json:"user"`
	}
	e.do(t, req{method: "POST", path: "/api/publisher/users/bob/sessions", apiKey: testAPIKey}).
		Want(t, http.StatusCreated).Decode(t, &out)
	if out.Secret == "" || time.Until(out.ExpiresAt) < 59*time.Minute {
		t.Fatalf("session = %+v", out)
	}
	var me struct {
		User          notify.User           `json:"user"`
		UnreadCount   int64                 `json:"unread_count"`
		Notifications []notify.Notification `json:"notifications"`
		WSURL         string                `json:"ws_url"`
	}
	e.do(t, req{method: "GET", path: "/api/me", secret: out.Secret}).Want(t, http.StatusOK).Decode(t, &me)
	if me.User.ID != u.ID || me.User.ExternalID != "bob" {
		t.Fatalf("me = %+v", me.User)
	}
	t.Run("unknown id is created", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/publisher/users/new-user/sessions", apiKey: testAPIKey}).
			Want(t, http.StatusCreated).Decode(t, &out)
		e.do(t, req{method: "GET", path: "/api/me", secret: out.Secret}).Want(t, http.StatusOK).Decode(t, &me)
		if me.User.ExternalID != "new-user" {
			t.Fatalf("me = %+v", me.User)
		}
	})
	t.Run("invalid id", func(t *testing.T) {
		e.do(t, req{method: "POST", path: "/api/publisher/users/a%20b/sessions", apiKey: testAPIKey}).
			WantError(t, http.StatusBadRequest, notify.EINVALID, "external_id")
	})
}

func TestPublisherNotify(t *testing.T) {
	e := newEnv(t)
	_, secret := e.externalSession(t, "alice")
	path := "/api/publisher/users/alice/notifications"

	var out struct {
		Notification notify.Notification `json:"notification"`
	}
	e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: `{"title":"Hi","content":"there"}`}).
		Want(t, http.StatusCreated).Decode(t, &out)
	n := out.Notification
	if n.ID == 0 || n.Title != "Hi" || n.Content != "there" || n.Style != notify.StyleInfo || n.Read || n.ReadAt != nil || n.CreatedAt.IsZero() || n.URL != nil || string(n.Data) != "null" {
		t.Fatalf("notification = %+v", n)
	}
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications", secret: secret}).Want(t, http.StatusOK).Decode(t, &l)
	if len(l.Notifications) != 1 || l.Notifications[0].ID != n.ID {
		t.Fatalf("inbox = %v", listIDs(l))
	}

	good := []struct{ name, body string }{
		{"warning", `{"title":"t","style":"warning"}`},
		{"error", `{"title":"t","style":"error"}`},
		{"200 emoji title", `{"title":"` + strings.Repeat("😀", 200) + `"}`},
		{"4000 code point content", `{"title":"t","content":"` + strings.Repeat("é", 4000) + `"}`},
		{"null content", `{"title":"t","content":null}`},
		{"path url", `{"title":"t","url":"/capsules/42"}`},
		{"https url", `{"title":"t","url":"https://app.example/capsules/42"}`},
		{"data object", `{"title":"t","data":{"capsule_id":42}}`},
		{"null url and data", `{"title":"t","url":null,"data":null}`},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: tc.body}).Want(t, http.StatusCreated)
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
		{"javascript url", `{"title":"t","url":"javascript:alert(1)"}`, "url"},
		{"data url", `{"title":"t","url":"data:text/html,x"}`, "url"},
		{"protocol-relative url", `{"title":"t","url":"//evil.example/"}`, "url"},
		{"url with a control character", `{"title":"t","url":"/a\u0007b"}`, "url"},
		{"url too long", `{"title":"t","url":"/` + strings.Repeat("a", 2048) + `"}`, "url"},
		{"url not a string", `{"title":"t","url":1}`, "url"},
		{"data not an object", `{"title":"t","data":[1]}`, "data"},
		{"data too large", `{"title":"t","data":{"k":"` + strings.Repeat("x", 4096) + `"}}`, "data"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
	t.Run("url and data come back as given", func(t *testing.T) {
		var out struct {
			Notification notify.Notification `json:"notification"`
		}
		e.do(t, req{method: "POST", path: path, apiKey: testAPIKey, body: `{"title":"t","url":"/capsules/42","data":{"capsule_id": 42, "tags":["a"]}}`}).
			Want(t, http.StatusCreated).Decode(t, &out)
		if out.Notification.URL == nil || *out.Notification.URL != "/capsules/42" || string(out.Notification.Data) != `{"capsule_id":42,"tags":["a"]}` {
			t.Fatalf("notification = %+v", out.Notification)
		}
		var l listJSON
		e.do(t, req{method: "GET", path: "/api/notifications?limit=1", secret: secret}).Want(t, http.StatusOK).Decode(t, &l)
		if got := l.Notifications[0]; got.ID != out.Notification.ID || *got.URL != "/capsules/42" || string(got.Data) != string(out.Notification.Data) {
			t.Fatalf("listed %+v", got)
		}
	})
	t.Run("unknown user is created", func(t *testing.T) {
		var out struct {
			Notification notify.Notification `json:"notification"`
		}
		e.do(t, req{method: "POST", path: "/api/publisher/users/left-before-the-end/notifications", apiKey: testAPIKey, body: `{"title":"Your video is ready"}`}).
			Want(t, http.StatusCreated).Decode(t, &out)
		_, s := e.externalSession(t, "left-before-the-end")
		var l listJSON
		e.do(t, req{method: "GET", path: "/api/notifications", secret: s}).Want(t, http.StatusOK).Decode(t, &l)
		if len(l.Notifications) != 1 || l.Notifications[0].ID != out.Notification.ID {
			t.Fatalf("inbox = %v", listIDs(l))
		}
	})
	for _, id := range []string{"a%20b", "%C3%A4", strings.Repeat("x", 129)} {
		t.Run("invalid external id "+id[:min(len(id), 8)], func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/publisher/users/" + id + "/notifications", apiKey: testAPIKey, body: `{"title":"t"}`}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, "external_id")
		})
	}
}

func TestPublisherNotifyMany(t *testing.T) {
	e := newEnv(t)
	_, aliceSecret := e.externalSession(t, "alice")
	_, bobSecret := e.externalSession(t, "bob")
	_, carolSecret := e.externalSession(t, "carol")

	var out struct {
		Created int `json:"created"`
	}
	body := `{"user_ids":["alice","bob","alice","alice","newcomer"],"title":"Maintenance","style":"warning","url":"/status"}`
	e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey, body: body}).
		Want(t, http.StatusCreated).Decode(t, &out)
	if out.Created != 3 {
		t.Fatalf("created = %d, want 3 (duplicates merged, unknown created)", out.Created)
	}
	_, newcomerSecret := e.externalSession(t, "newcomer")
	for _, c := range []struct {
		secret string
		want   int
	}{{aliceSecret, 1}, {bobSecret, 1}, {carolSecret, 0}, {newcomerSecret, 1}} {
		var l listJSON
		e.do(t, req{method: "GET", path: "/api/notifications", secret: c.secret}).Want(t, http.StatusOK).Decode(t, &l)
		if len(l.Notifications) != c.want {
			t.Fatalf("inbox has %d, want %d", len(l.Notifications), c.want)
		}
		if c.want == 1 && (l.Notifications[0].Title != "Maintenance" || l.Notifications[0].Style != notify.StyleWarning || *l.Notifications[0].URL != "/status") {
			t.Fatalf("notification = %+v", l.Notifications[0])
		}
	}

	t.Run("1000 ids", func(t *testing.T) {
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fmt.Sprintf(`"u%d"`, i)
		}
		e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey,
			body: `{"user_ids":[` + strings.Join(ids, ",") + `],"title":"t"}`}).Want(t, http.StatusCreated).Decode(t, &out)
		if out.Created != 1000 {
			t.Fatalf("created = %d, want 1000", out.Created)
		}
	})

	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf(`"u%d"`, i)
	}
	bad := []struct{ name, body, field string }{
		{"no ids", `{"title":"t"}`, "user_ids"},
		{"empty ids", `{"user_ids":[],"title":"t"}`, "user_ids"},
		{"null ids", `{"user_ids":null,"title":"t"}`, "user_ids"},
		{"1001 ids", `{"user_ids":[` + strings.Join(many, ",") + `],"title":"t"}`, "user_ids"},
		{"empty id", `{"user_ids":["a",""],"title":"t"}`, "user_ids"},
		{"id with a space", `{"user_ids":["a b"],"title":"t"}`, "user_ids"},
		{"numeric id", `{"user_ids":[1],"title":"t"}`, "user_ids"},
		{"not a list", `{"user_ids":"a","title":"t"}`, "user_ids"},
		{"no title", `{"user_ids":["alice"]}`, "title"},
		{"NUL in content", `{"user_ids":["alice"],"title":"t","content":"x\u0000"}`, "content"},
		{"title not a string", `{"user_ids":["alice"],"title":1}`, "title"},
		{"style not a string", `{"user_ids":["alice"],"title":"t","style":[]}`, "style"},
		{"bad style", `{"user_ids":["alice"],"title":"t","style":"huge"}`, "style"},
		{"bad url", `{"user_ids":["alice"],"title":"t","url":"javascript:x"}`, "url"},
		{"bad data", `{"user_ids":["alice"],"title":"t","data":"x"}`, "data"},
		{"unknown field", `{"user_ids":["alice"],"title":"t","users":[1]}`, "users"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, req{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey, body: tc.body}).
				WantError(t, http.StatusBadRequest, notify.EINVALID, tc.field)
		})
	}
}

// TestNotificationAnswerWritten holds the 201 body of a create, written
// from a buffer reused from one create to the next, to json.Marshal of
// the response and to the answer stored with an Idempotency-Key, for
// answers longer and shorter than the one before.
func TestNotificationAnswerWritten(t *testing.T) {
	long := notifytest.Notification()
	long.Content = strings.Repeat("é<&\u2028 ", 200)
	read := notifytest.Notification()
	at := read.CreatedAt.Add(time.Hour)
	read.Read, read.ReadAt, read.URL, read.Data = true, &at, nil, nil
	huge := notifytest.Notification()
	huge.Content = strings.Repeat("x", maxPooledAnswer)
	h := &publisherAPI{}
	for i, n := range []notify.Notification{notifytest.Notification(), long, read, huge, notifytest.Notification(), {ID: 1}} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		h.writeNotificationAnswer(c, n)
		want, err := json.Marshal(notificationResponse{Notification: n})
		if err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusCreated || w.Body.String() != string(want) {
			t.Errorf("answer %d: %d %s, want 201 %s", i, w.Code, w.Body, want)
		}
		if stored := mustJSON(notificationAnswer(n)); string(stored) != string(want) {
			t.Errorf("answer %d stored as %s, want %s", i, stored, want)
		}
	}
}

// TestKeyDigest: the digest of a key hashed from a stack copy is its
// SHA-256, for keys shorter and longer than that copy.
func TestKeyDigest(t *testing.T) {
	for _, n := range []int{0, 1, 32, 64, 127, 128, 129, 300} {
		key := strings.Repeat("k", n)
		if keyDigest(key) != sha256.Sum256([]byte(key)) {
			t.Errorf("the digest of a key of %d bytes is not its SHA-256", n)
		}
	}
}
