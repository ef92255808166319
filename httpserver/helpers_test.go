package httpserver

import (
	"io/fs"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/web"
)

// Test settings.
const (
	testAPIKey  = "publisher-key-one-0123456789abcdef"
	testAPIKey2 = "publisher-key-two-0123456789abcdef"
	testOrigin  = "http://localhost:8000"
	testWSURL   = "ws://localhost:8001/ws"
)

// env is this package's HTTP API on the test kit's stack (real store,
// hub, service, accounts and tasks over a fresh database), served by a
// real HTTP server. Every request through api is checked against
// docs/openapi.yaml.
type env struct {
	*testkit.Stack
	api    *testkit.API
	server *Server
	cfg    Config
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

// routesOnly is the server New builds with no collaborators, for tests
// that read its routes or its spec check and serve no request.
func routesOnly() *Server {
	return newServer(testConfig(), deps{Logger: slog.New(slog.DiscardHandler)}, web.Files())
}

func newEnv(tb testing.TB) *env { tb.Helper(); return newEnvWith(tb, envOptions{}) }

// newEnvAs is newEnv with one user signed up and logged in, and the
// secret of its session: the start of most tests of the user API.
func newEnvAs(tb testing.TB, name string) (*env, notify.User, string) {
	tb.Helper()
	e := newEnv(tb)
	u, secret := e.api.User(tb, name)
	return e, u, secret
}

func newEnvWith(tb testing.TB, o envOptions) *env {
	tb.Helper()
	e := &env{cfg: testConfig()}
	if o.cfg != nil {
		o.cfg(&e.cfg)
	}
	ttl := e.cfg.Auth.SessionTTL.D()
	if o.sessionTTL != 0 {
		ttl = o.sessionTTL
	}
	static := o.static
	if static == nil {
		static = web.Files()
	}
	accounts := notifytest.AccountsConfig()
	accounts.SessionTTL, accounts.MaxSessionsPerUser = ttl, e.cfg.Auth.MaxSessionsPerUser
	e.Stack = testkit.NewStack(tb, testkit.Config{
		Store:    o.store,
		Accounts: accounts,
		JWT:      &e.cfg.Auth.JWT,
		HTTP: func(s *testkit.Stack) testkit.Server {
			e.server = newServer(e.cfg, deps{Store: s.Store, Service: s.Service, Accounts: s.Accounts, Tasks: s.Tasks, Logger: s.Logger}, static)
			if o.frozen {
				t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
				e.server.now = func() time.Time { return t0 }
			}
			if o.routes != nil {
				o.routes(e.server)
			}
			return testkit.Server{Handler: e.server.Handler()}
		},
	})
	e.api = e.API(tb)
	e.api.Check = func(tb testing.TB, hr *http.Request, got testkit.Response) {
		checkSpec(tb, e.server, hr, got) // docs/openapi.yaml (openapi_test.go)
	}
	return e
}

// req describes one HTTP request in this package's words.
type req struct {
	method string
	path   string
	body   any // string or []byte sent as is; io.Reader sent chunked; anything else JSON-encoded; nil: no body
	secret string
	cookie string // the value of the session cookie
	apiKey string
	origin string
	header map[string]string
}

// resp is a received response with its body read.
type resp = testkit.Response

// errorJSON is the body of an error answer.
type errorJSON = testkit.ErrorJSON

func (e *env) do(tb testing.TB, r req) resp {
	tb.Helper()
	kr := testkit.Request{Method: r.method, Path: r.path, Body: r.body, Bearer: r.secret, Origin: r.origin, Header: r.header}
	if r.apiKey != "" {
		kr.Bearer = r.apiKey
	}
	if r.cookie != "" {
		kr.Cookie = &http.Cookie{Name: e.server.cookie.name, Value: r.cookie}
	}
	return e.api.Do(tb, kr)
}

// external creates (or finds) the user the app names ext through the
// publisher API.
func (e *env) external(tb testing.TB, ext string) notify.User {
	tb.Helper()
	var out struct {
		User notify.User `json:"user"`
	}
	r := e.do(tb, req{method: "PUT", path: "/api/publisher/users/" + ext, apiKey: testAPIKey})
	if r.Status != http.StatusCreated {
		r.Want(tb, http.StatusOK)
	}
	r.Decode(tb, &out)
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
		Want(tb, http.StatusCreated).Decode(tb, &out)
	return u, out.Secret
}

// testPass is the password of the users the suites sign up.
const testPass = testkit.Password

// subscribe registers a live socket of userID in the hub, as the
// websocket server would (testkit.Subscribe).
func (e *env) subscribe(tb testing.TB, userID, sessionID int64) *notify.Subscriber {
	tb.Helper()
	return testkit.Subscribe(tb, e.Hub, userID, sessionID)
}

// frame returns the next frame queued for sub (testkit.HubFrame).
func frame(tb testing.TB, sub *notify.Subscriber, wait time.Duration) map[string]any {
	tb.Helper()
	return testkit.HubFrame(tb, sub, wait)
}

// wantNoFrame fails if sub has a frame queued (testkit.WantNoHubFrame).
func wantNoFrame(tb testing.TB, sub *notify.Subscriber) {
	tb.Helper()
	testkit.WantNoHubFrame(tb, sub)
}
