package wsserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

func TestOrigin(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	tests := []struct {
		name    string
		origins []string // nil: no Origin header
		allowed bool
	}{
		{"no origin header", nil, true},
		{"allowed origin", []string{testOrigin}, true},
		{"allowed origin in another case", []string{"HTTP://LocalHost:8000"}, true},
		{"allowed origin in upper case", []string{"HTTP://LOCALHOST:8000"}, true},
		{"foreign origin", []string{"http://evil.example"}, false},
		{"null origin", []string{"null"}, false},
		{"other port", []string{"http://localhost:8001"}, false},
		{"other scheme", []string{"https://localhost:8000"}, false},
		{"trailing slash", []string{testOrigin + "/"}, false},
		{"empty origin", []string{""}, false},
		{"two origins", []string{testOrigin, testOrigin}, false},
		// coder/websocket would admit this one: same host as the request.
		{"the websocket server's own origin", []string{e.httpURL}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			for _, o := range tt.origins {
				header.Add("Origin", o)
			}
			ws, resp, err := e.dial(t, header)
			if tt.allowed {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c := ws
				c.Send(t, secret)
				if f := c.Next(t); f.Type != "hello" {
					t.Fatalf("first frame = %+v, want hello", f)
				}
				return
			}
			if err == nil {
				t.Fatal("upgrade accepted, want 403")
			}
			// No 101: no socket was opened.
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("response = %v (%v), want 403", resp, err)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var body errorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decode body: %v", err)
			}
			if body.Error.Code != notify.EFORBIDDEN {
				t.Errorf("error code = %q, want %q", body.Error.Code, notify.EFORBIDDEN)
			}
		})
	}
}

// TestOriginRefusalLogged: a refused upgrade is logged at WARN with the
// origin and the allowed list, and the 403 names the origin and the key to
// set (the page is usually opened at another address than
// http.public_url).
func TestOriginRefusalLogged(t *testing.T) {
	var logs testkit.LogBuffer
	e := newEnv(t, func(ec *envConfig) { ec.logs = &logs })
	_, resp, err := e.dial(t, http.Header{"Origin": {"http://127.0.0.1:8000"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial = %v %v, want 403", resp, err)
	}
	var body errorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if want := "origin http://127.0.0.1:8000 not allowed; set http.public_url"; !strings.HasPrefix(body.Error.Message, want) {
		t.Errorf("message = %q, want it to start with %q", body.Error.Message, want)
	}
	var rec struct {
		Level   string   `json:"level"`
		Msg     string   `json:"msg"`
		Origin  string   `json:"origin"`
		Allowed []string `json:"allowed_origins"`
	}
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "websocket upgrade refused: origin not allowed" {
			break
		}
		rec.Msg = ""
	}
	if rec.Level != "WARN" || rec.Origin != "http://127.0.0.1:8000" || len(rec.Allowed) != 1 || rec.Allowed[0] != testOrigin {
		t.Fatalf("log record = %+v, want WARN with the origin and [%s]\n%s", rec, testOrigin, logs.String())
	}
}
