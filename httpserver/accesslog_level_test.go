package httpserver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/web"
)

// The access log builds its line only when the logger takes the level of
// the request's status (accessLog): at log.level = warn a 2xx request
// writes nothing, and a 4xx or 5xx one still writes its whole line.
func TestAccessLogAtWarn(t *testing.T) {
	var logs bytes.Buffer // one request at a time, served in this goroutine
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d := config.Default()
	s := newServer(Config{HTTP: d.HTTP, Auth: d.Auth, WSPublicURL: testWSURL}, deps{Logger: logger}, web.Files())

	serveOne := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = "192.0.2.7:40000"
		s.Handler().ServeHTTP(w, r)
		return w
	}

	if w := serveOne("/healthz"); w.Code != http.StatusOK {
		t.Fatalf("healthz: %d", w.Code)
	}
	if logs.Len() != 0 {
		t.Fatalf("a 2xx was logged at warn: %s", logs.String())
	}

	w := serveOne("/no/such/route?token=querysecret")
	if w.Code != http.StatusNotFound {
		t.Fatalf("unknown route: %d", w.Code)
	}
	var rec map[string]any
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	want := map[string]any{
		"msg": "http request", "level": "WARN", "method": "GET", "path": "/no/such/route",
		"status": float64(http.StatusNotFound), "client_ip": "192.0.2.7",
		"request_id": w.Header().Get("X-Request-ID"),
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (record %v)", k, rec[k], v, rec)
		}
	}
	if rec["duration"] == nil || rec["request_id"] == "" {
		t.Errorf("record %v lacks a duration or a request id", rec)
	}
}
