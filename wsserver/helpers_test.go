package wsserver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
)

// testOrigin is the allowed origin of every test server.
const testOrigin = "http://localhost:8000"

// env is this package's server on the test kit's stack (real store, hub,
// service and accounts), listening on a random port.
type env struct {
	*testkit.Stack
	srv     *Server
	httpURL string // http://127.0.0.1:port of the websocket listener
}

// envConfig is what a test may tune before the server starts.
type envConfig struct {
	ws  config.WS
	hub notify.HubConfig
	// httpTimeout is the ReadTimeout and WriteTimeout of the
	// http.Server; 0 for none.
	httpTimeout time.Duration
	// metrics, when set, is given to the hub and the server.
	metrics *metrics.Metrics
	// jwt configures the tokens accepted: by default jwtauthtest's;
	// no key: tokens are refused.
	jwt config.JWT
	// logs, when set, receives the server's logs (JSON) too.
	logs io.Writer
	// wrap, when set, gives the server its Watcher, the store of its
	// Accounts and its Store, from the stack's: a test steps in between
	// the reads of a connect.
	wrap func(s *testkit.Stack) (Watcher, notify.AccountStore, Store)
}

// newEnv starts a server; everything is closed when the test ends.
func newEnv(tb testing.TB, tune ...func(*envConfig)) *env {
	tb.Helper()
	ec := envConfig{ws: config.Default().WS, hub: notify.HubConfig{SendQueue: 256, MaxPerUser: 16},
		jwt: jwtauthtest.Config()}
	ec.ws.AllowedOrigins = []string{testOrigin}
	for _, f := range tune {
		f(&ec)
	}
	e := &env{}
	e.Stack = testkit.NewStack(tb, testkit.Config{
		Hub: ec.hub, Metrics: ec.metrics, JWT: &ec.jwt, Logs: ec.logs, ServerTimeout: ec.httpTimeout,
		WS: func(s *testkit.Stack) testkit.Server {
			var w Watcher = s.Service
			var st Store = s.Store
			accounts := s.Accounts
			if ec.wrap != nil {
				var as notify.AccountStore
				w, as, st = ec.wrap(s)
				accounts = testAccounts(tb, as)
			}
			e.srv = New(ec.ws, s.Hub, w, accounts, st, s.Logger, ec.metrics)
			return testkit.Server{Handler: e.srv.Handler(), Close: e.srv.Close}
		},
	})
	e.httpURL = "http" + strings.TrimSuffix(strings.TrimPrefix(e.WSURL, "ws"), "/ws")
	return e
}

// newEnvAs is newEnv(tb, tune...) with one user and the secret of a
// session of it: the start of most tests of a signed-in socket.
func newEnvAs(tb testing.TB, name string, tune ...func(*envConfig)) (*env, notify.User, string) {
	tb.Helper()
	e := newEnv(tb, tune...)
	u, _, secret := e.Session(tb, name)
	return e, u, secret
}

// dial opens a websocket with the given request headers.
func (e *env) dial(tb testing.TB, header http.Header) (*testkit.Socket, *http.Response, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	s, res, err := testkit.DialRaw(ctx, e.WSURL, &websocket.DialOptions{HTTPClient: e.Client, HTTPHeader: header})
	if err == nil {
		tb.Cleanup(s.CloseNow)
	}
	return s, res, err
}

// open dials and fails the test if the upgrade is refused.
func (e *env) open(tb testing.TB, header http.Header) *testkit.Socket {
	tb.Helper()
	return testkit.Dial(tb, e.WSURL, &websocket.DialOptions{HTTPClient: e.Client, HTTPHeader: header})
}

// connect opens a socket, authenticates with the auth message msg and
// checks the hello.
func (e *env) connect(tb testing.TB, msg string) *testkit.Socket {
	tb.Helper()
	return testkit.Connect(tb, e.WSURL, msg, &websocket.DialOptions{HTTPClient: e.Client})
}
