package httpserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

// TestSpecCheckCatchesDrift feeds checkSpec exchanges that break
// docs/openapi.yaml, as a server that drifted from it would answer, and
// one that keeps it: the check in env.do would let no drift through.
func TestSpecCheckCatchesDrift(t *testing.T) {
	t.Parallel()
	s := routesOnly()
	okHeader := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Request-Id": {"abc"}}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	const user = `{"id":1,"username":"alice","external_id":null,"name":null,"created_at":"2030-01-01T00:00:00Z"}`
	const me = `{"user":` + user + `,"unread_count":0,"notifications":[],"ws_url":"ws://x/ws"}`
	const note = `{"title":"t"}`
	const created = `{"notification":{"id":1,"title":"t","content":"","style":"info","url":null,"data":null,"read":false,"created_at":"2030-01-01T00:00:00Z","read_at":null}}`
	cases := []struct {
		name               string
		method, path, body string
		auth               string
		got                resp
		want               string // in the error; "" for none
	}{
		{"keeps the spec", "GET", "/api/me", "", "Bearer s3cret",
			resp{Status: 200, Header: okHeader(), Body: []byte(me)}, ""},
		{"field the spec lacks", "GET", "/api/me", "", "Bearer s3cret",
			resp{Status: 200, Header: okHeader(), Body: []byte(strings.Replace(me, `"ws_url"`, `"extra":1,"ws_url"`, 1))}, "does not match the spec"},
		{"field missing", "GET", "/api/me", "", "Bearer s3cret",
			resp{Status: 200, Header: okHeader(), Body: []byte(strings.Replace(me, `"unread_count":0,`, "", 1))}, "does not match the spec"},
		{"status the spec lacks", "GET", "/api/me", "", "Bearer s3cret",
			resp{Status: http.StatusTeapot, Header: okHeader(), Body: []byte(`{"error":{"code":"internal","message":"x"}}`)}, "does not match the spec"},
		{"error code of another status", "GET", "/api/me", "", "Bearer s3cret",
			resp{Status: 401, Header: okHeader(), Body: []byte(`{"error":{"code":"forbidden","message":"x"}}`)}, "does not match the spec"},
		{"no X-Request-Id", "GET", "/api/config", "", "",
			resp{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"ws_url":"","tasks":false,"allowed_origins":[]}`)}, "X-Request-ID"},
		{"429 without Retry-After", "POST", "/api/sessions", `{"username":"a","password":"b"}`, "",
			resp{Status: 429, Header: okHeader(), Body: []byte(`{"error":{"code":"rate_limited","message":"x"}}`)}, "Retry-After"},
		{"request the spec refuses, accepted", "POST", "/api/publisher/users/bob/notifications", `{"title":"t","colour":"red"}`, "Bearer key",
			resp{Status: 201, Header: okHeader(), Body: []byte(`{"notification":{}}`)}, "accepted (201) a request the spec refuses"},
		{"user route without credentials, accepted", "GET", "/api/me", "", "",
			resp{Status: 200, Header: okHeader(), Body: []byte(me)}, "accepted (200) a request the spec refuses"},
		{"session route with a token, accepted", "DELETE", "/api/sessions/current", "", "Bearer a.b.c",
			resp{Status: 204, Header: okHeader("Set-Cookie", "notifyd_session=; Max-Age=0"), Body: nil}, "accepted (204) a request the spec refuses"},
		{"request refused: not checked", "POST", "/api/publisher/users/bob/notifications", `{"title":"t","colour":"red"}`, "Bearer key",
			resp{Status: 400, Header: okHeader(), Body: []byte(`{"error":{"code":"invalid_request","message":"colour: unknown field"}}`)}, ""},
		{"route the spec lacks", "GET", "/api/secret", "", "",
			resp{Status: 200, Header: okHeader(), Body: []byte(`{}`)}, "has no such operation"},
		{"unknown route, JSON 404", "GET", "/api/secret", "", "",
			resp{Status: 404, Header: okHeader(), Body: []byte(`{"error":{"code":"not_found","message":"no such route"}}`)}, ""},
		{"unknown route, other 404 body", "GET", "/api/secret", "", "",
			resp{Status: 404, Header: okHeader(), Body: []byte(`404 page not found`)}, "not JSON"},
		{"created", "POST", "/api/publisher/users/bob/notifications", note, "Bearer key",
			resp{Status: 201, Header: okHeader(), Body: []byte(created)}, ""},
		{"replayed", "POST", "/api/publisher/users/bob/notifications", note, "Bearer key",
			resp{Status: 201, Header: okHeader("Idempotent-Replayed", "true"), Body: []byte(created)}, ""},
		{"replayed, header the spec lacks", "POST", "/api/publisher/users/bob/notifications", note, "Bearer key",
			resp{Status: 201, Header: okHeader("Idempotent-Replayed", "yes"), Body: []byte(created)}, "Idempotent-Replayed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hr, err := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			hr.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				hr.Header.Set("Authorization", tc.auth)
			}
			rec := &testkit.Recorder{TB: t}
			checkSpec(rec, s, hr, tc.got)
			got := strings.Join(rec.Errors, "\n")
			if tc.want == "" && got != "" {
				t.Fatalf("unexpected: %s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("errors %q, want one with %q", got, tc.want)
			}
		})
	}
}

// TestOpenAPIErrorCodes holds the spec's error codes to statusOf: each
// code of the Error schema is answered with a status whose response schema
// accepts it (internal is 500 by definition, method_not_allowed is the
// router's 405).
func TestOpenAPIErrorCodes(t *testing.T) {
	t.Parallel()
	spec := testSpec(t)
	codes := spec.doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value.Enum
	if len(codes) < 10 {
		t.Fatalf("error codes in the spec: %v", codes)
	}
	for _, c := range codes {
		code := c.(string)
		t.Run(code, func(t *testing.T) {
			status, known := statusOf(code)
			switch code {
			case notify.EINTERNAL:
				status, known = http.StatusInternalServerError, true
			case "method_not_allowed":
				status, known = http.StatusMethodNotAllowed, true
			}
			if !known {
				t.Fatalf("statusOf(%q) is unknown: the spec lists a code the server never sends", code)
			}
			body := []byte(`{"error":{"code":"` + code + `","message":"m"}}`)
			hr, err := http.NewRequest("GET", "http://127.0.0.1:1/api/secret", nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := &testkit.Recorder{TB: t}
			spec.checkAnyError(rec, hr, resp{Status: status, Body: body})
			if len(rec.Errors) > 0 {
				t.Fatalf("code %q answered %d: %s", code, status, rec.Errors)
			}
		})
	}
}
