package httpserver

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// bodyRoutes are the routes that read a body, with the credentials they
// need.
func bodyRoutes(externalID, secret string) []req {
	return []req{
		{method: "POST", path: "/api/users"},
		{method: "POST", path: "/api/sessions"},
		{method: "POST", path: "/api/notifications/read-all", secret: secret},
		{method: "POST", path: "/api/tasks", secret: secret},
		{method: "PUT", path: "/api/publisher/users/" + externalID, apiKey: testAPIKey},
		{method: "POST", path: "/api/publisher/users/" + externalID + "/notifications", apiKey: testAPIKey},
		{method: "POST", path: "/api/publisher/users/" + externalID + "/events", apiKey: testAPIKey},
		{method: "POST", path: "/api/publisher/notifications", apiKey: testAPIKey},
	}
}

func TestBodyTooLarge(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	// Valid JSON, invalid JSON and a JSON object whose fields would also
	// fail validation: all are 413, decided before anything is parsed.
	bodies := map[string]string{
		"valid JSON":   `{"title":"` + strings.Repeat("x", 65<<10) + `"}`,
		"invalid JSON": strings.Repeat("{", 65<<10),
		"just over":    `{"username":"` + strings.Repeat("a", 64<<10-14) + `"}`,
	}
	if n := len(bodies["just over"]); n != 64<<10+1 {
		t.Fatalf("just over is %d bytes", n)
	}
	for _, r := range bodyRoutes("alice", secret) {
		for name, body := range bodies {
			t.Run(r.path+" "+name, func(t *testing.T) {
				r.body = body
				e.do(t, r).WantError(t, http.StatusRequestEntityTooLarge, notify.ETOOLARGE, "body")
			})
		}
	}
	t.Run("chunked, no Content-Length", func(t *testing.T) {
		for _, r := range bodyRoutes("alice", secret) {
			r.body = strings.NewReader(`{"title":"` + strings.Repeat("x", 65<<10) + `"}`)
			e.do(t, r).WantError(t, http.StatusRequestEntityTooLarge, notify.ETOOLARGE, "body")
		}
	})
	t.Run("routes that take no body", func(t *testing.T) {
		big := strings.Repeat("x", 65<<10)
		for _, r := range []req{
			{method: "POST", path: "/api/publisher/users/alice/sessions", apiKey: testAPIKey},
			{method: "DELETE", path: "/api/sessions/current", secret: secret},
			{method: "GET", path: "/api/me", secret: secret},
		} {
			r.body = big
			e.do(t, r).WantError(t, http.StatusRequestEntityTooLarge, notify.ETOOLARGE, "body")
		}
		// The session survived the refused logout.
		e.do(t, req{method: "GET", path: "/api/me", secret: secret}).Want(t, http.StatusOK)
	})
	t.Run("64 KiB exactly is read", func(t *testing.T) {
		body := `{"name":"` + strings.Repeat("a", 64<<10-11) + `"}`
		if len(body) != 64<<10 {
			t.Fatalf("%d bytes", len(body))
		}
		// Read in full, then refused by validation, not by size.
		e.do(t, req{method: "PUT", path: "/api/publisher/users/alice", apiKey: testAPIKey, body: body}).
			WantError(t, http.StatusBadRequest, notify.EINVALID, "name")
	})
	t.Run("configured limit", func(t *testing.T) {
		e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.HTTP.MaxBodyBytes = 100 }})
		e.do(t, req{method: "POST", path: "/api/users", body: `{"username":"` + strings.Repeat("a", 100) + `"}`}).
			WantError(t, http.StatusRequestEntityTooLarge, notify.ETOOLARGE, "body")
	})
}

// TestNoPanicOnOddBodies sends odd bodies to every route that reads one:
// each answer is a JSON 4xx, never a 500.
func TestNoPanicOnOddBodies(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	bodies := []string{
		``, ` `, `null`, `true`, `0`, `"x"`, `[]`, `[{}]`, `{`, `}`, `{}`, `{}{}`, `{} x`,
		`{"":1}`, `{"a":}`, `{"title":null,"user_ids":null,"type":null}`,
		`{"user_ids":[1e400]}`, `{"duration_ms":1e400}`, `{"up_to_id":-0}`,
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		`{"title":"` + strings.Repeat(`\ud800`, 100) + `"}`,
		"{\"title\":\"\xff\xfe\"}",
		`{"title":"t","title":"` + strings.Repeat("x", 300) + `"}`,
		`{"data":` + strings.Repeat(`{"a":`, 3000) + `1` + strings.Repeat(`}`, 3000) + `,"type":"deep"}`,
	}
	for _, r := range bodyRoutes("alice", secret) {
		for i, body := range bodies {
			t.Run(fmt.Sprintf("%s %d", r.path, i), func(t *testing.T) {
				r.body = body
				got := e.do(t, r)
				if got.Status >= 500 {
					t.Fatalf("status %d for %q: %s", got.Status, body, got.Body)
				}
				if got.Status >= 400 {
					var ej errorJSON
					got.Decode(t, &ej)
					if ej.Error.Code == "" || ej.Error.Message == "" {
						t.Fatalf("error shape: %s", got.Body)
					}
				}
			})
		}
	}
}

// TestDecodeAfterOtherBodies holds the decoders decodeJSON reuses to what
// a fresh one does: bodies decoded one after the other by one responder,
// accepted or refused, each give the value or the error (its byte
// position included) that a responder of their own gives.
func TestDecodeAfterOtherBodies(t *testing.T) {
	bodies := []string{
		`{"title":"first","content":"c","data":{"a":[1,2]}}`,
		`{"title":"t",}`, `{"title":"t" "content":"c"}`, `{"title":"t"`, `{"title":"t"}}`,
		`{"title":"t"} {"title":"u"}`, `{"title":"t","user_id":2}`, `{"title":3}`,
		`{"title":"after errors"}`, `{}`, "{\"title\":\"\xff\"}",
		`{"title":"` + strings.Repeat("x", maxPooledBody) + `"}`,
		`{"title":"after a large body","url":"/x"}`, `{"data":{"a":}}`,
	}
	shared := &responder{logger: slog.New(slog.DiscardHandler), maxBody: fuzzMaxBody}
	for round := range 2 { // the second round reuses decoders from the first
		for i, body := range bodies {
			var got, want notify.NewNotification
			gotErr := decode(shared, []byte(body), &got, bodyRequired)
			fresh := &responder{logger: slog.New(slog.DiscardHandler), maxBody: fuzzMaxBody}
			wantErr := decode(fresh, []byte(body), &want, bodyRequired)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("round %d, body %d: error %v, a fresh decoder's %v", round, i, gotErr, wantErr)
			}
			if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
				t.Errorf("round %d, body %d: decoded %s, a fresh decoder %s", round, i, g, w)
			}
		}
	}
}

// TestDecodeLimitWithoutMiddleware: decodeJSON refuses a body over
// http.max_body_bytes by itself, whether its length was declared or not,
// read at once or byte by byte (limitBody refuses it first on a server).
func TestDecodeLimitWithoutMiddleware(t *testing.T) {
	r := &responder{logger: slog.New(slog.DiscardHandler), maxBody: 20}
	for _, tc := range []struct {
		body    string
		tooBig  bool
		declare bool
	}{
		{`{"title":"12345678"}`, false, false}, {`{"title":"12345678"}`, false, true},
		{`{"title":"123456789"}`, true, false}, {`{"title":"123456789"}`, true, true},
		{`{"title":"` + strings.Repeat("x", 2000) + `"}`, true, false},
	} {
		for _, oneByte := range []bool{false, true} {
			var body io.Reader = strings.NewReader(tc.body)
			if oneByte {
				body = iotest.OneByteReader(body)
			}
			c := &gin.Context{Request: &http.Request{Method: "POST", Body: io.NopCloser(body),
				Header: http.Header{"Content-Type": {"application/json"}}}}
			if tc.declare {
				c.Request.ContentLength = int64(len(tc.body))
			}
			var n notify.NewNotification
			err := r.decodeJSON(c, &n, bodyRequired)
			if got := notify.ErrorCode(err) == notify.ETOOLARGE; got != tc.tooBig || (!tc.tooBig && err != nil) {
				t.Errorf("%d bytes (declared %v, one byte at a time %v): %v", len(tc.body), tc.declare, oneByte, err)
			}
		}
	}
}
