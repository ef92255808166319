package httpserver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
	"github.com/notifyd/notifyd/web"
)

// The per-request cost of the HTTP layer, without the network: the
// middleware chain, body decoding and response encoding of the publisher's
// create route. allocs/op is the figure to compare (BENCHMARKS.md,
// "Profiles and where the time goes"); ns/op depends on the box's load.
//
//	go test -run '^$' -bench 'Middleware|PublishRequest|DecodeNotification|NotificationResponse' -benchmem ./httpserver/

// benchServer is a Server as run wires it (metrics on, a logger at
// level), over a fresh test database.
func benchServer(b *testing.B, level slog.Level) *Server {
	b.Helper()
	st := storetest.Open(b)
	m := metrics.New(prometheus.NewRegistry())
	hubCfg := notifytest.HubConfig()
	hubCfg.Observer = m
	hub := notify.NewHub(hubCfg)
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notify.BatchConfig{MaxRows: 256, MaxWait: time.Millisecond}, logger, nil)
	b.Cleanup(func() { _ = svc.Close(context.Background()) })
	accCfg := notifytest.AccountsConfig()
	accCfg.Password = notify.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}
	acc, err := notify.NewAccounts(st, accCfg, nil, nil)
	if err != nil {
		b.Fatalf("new accounts: %v", err)
	}
	d := config.Default()
	d.Auth.APIKeys = []string{testAPIKey}
	cfg := Config{HTTP: d.HTTP, Auth: d.Auth, WSPublicURL: testWSURL, AllowedOrigins: []string{testOrigin}}
	return newServer(cfg, deps{Store: st, Service: svc, Accounts: acc, Logger: logger, Metrics: m}, web.Files())
}

// serve runs one request through h and fails unless it answers want.
func serve(b *testing.B, h http.Handler, r *http.Request, want int) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: status %d, want %d: %s", r.Method, r.URL.Path, w.Code, want, w.Body)
	}
}

// BenchmarkMiddleware is GET /healthz: every middleware of every request
// around a handler that does almost nothing. "info" writes the access
// log line (to io.Discard); "warn" is the level the benchmarks run at.
func BenchmarkMiddleware(b *testing.B) {
	for _, lv := range []struct {
		name  string
		level slog.Level
	}{{"warn", slog.LevelWarn}, {"info", slog.LevelInfo}} {
		b.Run(lv.name, func(b *testing.B) {
			h := benchServer(b, lv.level).Handler()
			r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			r.RemoteAddr = "127.0.0.1:40000"
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, r, http.StatusOK)
			}
		})
	}
}

// benchBody is the body notifybench sends.
const benchBody = `{"title":"bench","content":"bench t=1764985000000000000 seq=12345"}`

// BenchmarkPublishRequest is the whole create route with the database:
// POST /api/publisher/users/{id}/notifications, one caller at a time.
// Most of it is the store; compare allocs/op before and after a change
// to the HTTP layer.
func BenchmarkPublishRequest(b *testing.B) {
	h := benchServer(b, slog.LevelWarn).Handler()
	body := []byte(benchBody)
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/api/publisher/users/bench-1/notifications", bytes.NewReader(body))
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+testAPIKey)
		serve(b, h, r, http.StatusCreated)
	}
}

// BenchmarkDecodeNotification is the body of a create request read and
// decoded as the handler does.
func BenchmarkDecodeNotification(b *testing.B) {
	s := &responder{logger: slog.New(slog.DiscardHandler), maxBody: config.Default().HTTP.MaxBodyBytes}
	body := []byte(benchBody)
	c, _ := ginContext(httptest.NewRecorder(), http.NoBody, int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		c.Request.Body = io.NopCloser(bytes.NewReader(body)) // 2 of the allocations
		var n notify.NewNotification
		if _, err := s.decodeJSONBody(c, &n, bodyRequired); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotificationResponse is the body of the 201 answer of a
// create: "written" as a create without an Idempotency-Key writes it (one
// context and recorder for every iteration), "stored" as the answer kept
// with a key is made.
func BenchmarkNotificationResponse(b *testing.B) {
	n := notifytest.Notification()
	b.Run("written", func(b *testing.B) {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		h := &publisherAPI{}
		b.ReportAllocs()
		for b.Loop() {
			w.Body.Reset()
			h.writeNotificationAnswer(c, n)
			if w.Body.Len() == 0 {
				b.Fatal("empty answer")
			}
		}
	})
	b.Run("stored", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(mustJSON(notificationAnswer(n))) == 0 {
				b.Fatal("empty answer")
			}
		}
	})
}

// ginContext is a gin context over w for a POST with body as a request's
// JSON body of length n.
func ginContext(w http.ResponseWriter, body io.Reader, n int64) (*gin.Context, *gin.Engine) {
	c, e := gin.CreateTestContext(w)
	r := httptest.NewRequest(http.MethodPost, "/api/publisher/users/bench-1/notifications", body)
	r.ContentLength = n
	r.Header.Set("Content-Type", "application/json")
	c.Request = r
	return c, e
}
