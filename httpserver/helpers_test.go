package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
	"github.com/notifyd/notifyd/web"
)

// Test settings.
const (
	testAPIKey  = "publisher-key-one-0123456789abcdef"
	testAPIKey2 = "publisher-key-two-0123456789abcdef"
	testOrigin  = "http://localhost:8000"
	testWSURL   = "ws://localhost:8001/ws"
	testPass    = "correct horse battery"
)

// cheapPasswords makes argon2id cost 1 MiB and one pass: the production
// parameters (19 MiB, 2 passes) take tens of milliseconds per hash, and
// these suites hash hundreds of times under -race on a shared machine.
// The cost does not change any behaviour the tests check.
func cheapPasswords() notify.PasswordParams {
	return notify.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}
}

// env is one notifyd HTTP API over a fresh database, served by a real
// HTTP server.
type env struct {
	srv      *httptest.Server
	server   *Server
	store    *store.Store
	hub      *notify.Hub
	service  *notify.Service
	accounts *notify.Accounts
	tasks    *notify.Tasks
	logs     *syncBuffer
	cfg      Config
}

// envOptions tweak an env before it starts.
type envOptions struct {
	cfg        func(*Config)
	sessionTTL time.Duration
	static     fs.FS
	// frozen stops the login limiters' clock, so buckets never refill
	// during a test.
	frozen bool
	// routes registers extra routes before the server starts.
	routes func(*Server)
	// store replaces the fresh storetest database.
	store *store.Store
}

func testConfig() Config {
	d := config.Default()
	d.Auth.APIKeys = []string{testAPIKey, testAPIKey2}
	d.Auth.SessionTTL = config.Duration(time.Hour)
	// Every request of a test comes from 127.0.0.1: the rate-limit tests
	// set their own per-IP limit.
	d.Auth.LoginPerMinuteIP = 1000
	d.Auth.JWT = jwtauthtest.Config()
	// The suites start many tasks: no per-minute limit in their way.
	d.Demo.TasksPerMinute = 10000
	return Config{HTTP: d.HTTP, Auth: d.Auth, Demo: d.Demo, WSPublicURL: testWSURL, AllowedOrigins: []string{testOrigin}}
}

func newEnv(tb testing.TB) *env { tb.Helper(); return newEnvWith(tb, envOptions{}) }

func newEnvWith(tb testing.TB, o envOptions) *env {
	tb.Helper()
	cfg := testConfig()
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	ttl := cfg.Auth.SessionTTL.D()
	if o.sessionTTL != 0 {
		ttl = o.sessionTTL
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := o.store
	if st == nil {
		st = storetest.Open(tb)
	}
	hub := notify.NewHub(notifytest.HubConfig())
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notify.BatchConfig{}, logger)
	acc, err := notify.NewAccounts(st, notify.AccountsConfig{SessionTTL: ttl, MaxSessionsPerUser: cfg.Auth.MaxSessionsPerUser, Password: cheapPasswords()},
		jwtauthtest.Verifier(tb, cfg.Auth.JWT))
	if err != nil {
		tb.Fatalf("new accounts: %v", err)
	}
	tasks := notify.NewTasks(svc, logger)
	tb.Cleanup(tasks.Close)
	static := o.static
	if static == nil {
		static = web.Files()
	}
	s := newServer(cfg, Deps{Store: st, Service: svc, Accounts: acc, Tasks: tasks, Logger: logger}, static)
	if o.frozen {
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return t0 }
	}
	if o.routes != nil {
		o.routes(s)
	}
	srv := httptest.NewServer(s.Handler())
	tb.Cleanup(srv.Close)
	return &env{srv: srv, server: s, store: st, hub: hub, service: svc, accounts: acc, tasks: tasks, logs: logs, cfg: cfg}
}

// req describes one HTTP request.
type req struct {
	method string
	path   string
	body   any // string or []byte sent as is; io.Reader sent chunked; anything else JSON-encoded; nil: no body
	secret string
	cookie string
	apiKey string
	origin string
	header map[string]string
}

// resp is a received response with its body read.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(tb testing.TB, r req) resp {
	tb.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	case io.Reader:
		// Hidden behind MultiReader, the length is unknown: the body is
		// sent chunked, with no Content-Length.
		body = io.MultiReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("encode body: %v", err)
		}
		body = bytes.NewReader(enc)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, body)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.secret != "" {
		hr.Header.Set("Authorization", "Bearer "+r.secret)
	}
	if r.apiKey != "" {
		hr.Header.Set("Authorization", "Bearer "+r.apiKey)
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: e.server.cookie.name, Value: r.cookie})
	}
	if r.origin != "" {
		hr.Header.Set("Origin", r.origin)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		tb.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", r.method, r.path, err)
	}
	got := resp{status: res.StatusCode, header: res.Header, body: b}
	checkSpec(tb, e.server, hr, got) // docs/openapi.yaml (openapi_test.go)
	return got
}

// decode decodes the JSON body into v, failing on unknown fields so tests
// notice shape changes.
func (r resp) decode(tb testing.TB, v any) {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("Content-Type = %q, want application/json (status %d, body %s)", ct, r.status, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

// want fails unless the status is status.
func (r resp) want(tb testing.TB, status int) resp {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

type errorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks an error response: its status, its code, and — when
// field is not empty — that the message names the field ("field: ...").
func (r resp) wantError(tb testing.TB, status int, code, field string) errorJSON {
	tb.Helper()
	r.want(tb, status)
	var e errorJSON
	r.decode(tb, &e)
	if e.Error.Code != code {
		tb.Fatalf("error code = %q, want %q (message %q)", e.Error.Code, code, e.Error.Message)
	}
	if e.Error.Message == "" {
		tb.Fatalf("error without a message: %s", r.body)
	}
	if field != "" && !strings.HasPrefix(e.Error.Message, field+":") {
		tb.Fatalf("error message %q does not name field %q", e.Error.Message, field)
	}
	return e
}

// signup creates a user with testPass through the API.
func (e *env) signup(tb testing.TB, name string) notify.User {
	tb.Helper()
	var out struct {
		User notify.User `json:"user"`
	}
	e.do(tb, req{method: "POST", path: "/api/users", body: map[string]string{"username": name, "password": testPass}}).
		want(tb, http.StatusCreated).decode(tb, &out)
	return out.User
}

// login opens a session through the API and returns the secret.
func (e *env) login(tb testing.TB, name string) string {
	tb.Helper()
	var out struct {
		Secret string      `json:"secret"`
		User   notify.User `json:"user"`
	}
	e.do(tb, req{method: "POST", path: "/api/sessions", body: map[string]string{"username": name, "password": testPass}}).
		want(tb, http.StatusCreated).decode(tb, &out)
	return out.Secret
}

// user signs a user up and logs it in.
func (e *env) user(tb testing.TB, name string) (notify.User, string) {
	tb.Helper()
	u := e.signup(tb, name)
	return u, e.login(tb, name)
}

// notify stores a notification for userID through the service.
func (e *env) notify(tb testing.TB, userID int64, title string) notify.Notification {
	tb.Helper()
	n, err := e.service.Notify(context.Background(), userID, notify.NewNotification{Title: title})
	if err != nil {
		tb.Fatalf("notify: %v", err)
	}
	return n
}

// subscribe registers a live socket of userID in the hub, as the
// websocket server would.
func (e *env) subscribe(tb testing.TB, userID, sessionID int64) *notify.Subscriber {
	tb.Helper()
	sub, err := e.hub.Register(userID, sessionID)
	if err != nil {
		tb.Fatalf("register: %v", err)
	}
	tb.Cleanup(func() { e.hub.Unregister(sub) })
	sub.GoLive(0)
	return sub
}

// frame returns the next frame queued for sub, decoded. The API publishes
// before it responds, so a frame caused by a finished request is already
// queued; the timeout only guards frames from background tasks.
func frame(tb testing.TB, sub *notify.Subscriber, wait time.Duration) map[string]any {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	f, err := notifytest.Next(ctx, sub)
	if err != nil {
		tb.Fatalf("no frame within %s: %v", wait, err)
	}
	var m map[string]any
	if err := json.Unmarshal(f.Data, &m); err != nil {
		tb.Fatalf("frame %s: %v", f.Data, err)
	}
	return m
}

// wantNoFrame fails if sub has a frame queued.
func wantNoFrame(tb testing.TB, sub *notify.Subscriber) {
	tb.Helper()
	if f, ok := sub.Next(); ok {
		tb.Fatalf("unexpected frame %s", f.Data)
	}
}

// external creates (or finds) the user the app names ext through the
// publisher API.
func (e *env) external(tb testing.TB, ext string) notify.User {
	tb.Helper()
	var out struct {
		User notify.User `json:"user"`
	}
	r := e.do(tb, req{method: "PUT", path: "/api/publisher/users/" + ext, apiKey: testAPIKey})
	if r.status != http.StatusCreated {
		r.want(tb, http.StatusOK)
	}
	r.decode(tb, &out)
	return out.User
}

// externalSession creates (or finds) the external user ext and opens a
// session for it through the publisher API.
func (e *env) externalSession(tb testing.TB, ext string) (notify.User, string) {
	tb.Helper()
	u := e.external(tb, ext)
	var out struct {
		Secret    string      `json:"secret"`
		ExpiresAt time.Time   `json:"expires_at"`
		User      notify.User `json:"user"`
	}
	e.do(tb, req{method: "POST", path: "/api/publisher/users/" + ext + "/sessions", apiKey: testAPIKey}).
		want(tb, http.StatusCreated).decode(tb, &out)
	return u, out.Secret
}
