package testkit

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// Config is what a test tunes before its stack starts. The zero value is
// the domain of a notifyd with no listener.
type Config struct {
	// Store replaces the fresh storetest database.
	Store *store.Store
	// Hub is the hub's configuration; zero: config.Default's.
	Hub notify.HubConfig
	// Metrics, when set, is given to the hub.
	Metrics *metrics.Metrics
	// Accounts configures sessions and passwords; zero:
	// notifytest.AccountsConfig (config.Default's [auth]). A zero
	// Password is CheapPasswords.
	Accounts notify.AccountsConfig
	// JWT configures the tokens accepted; nil: jwtauthtest's keys.
	JWT *config.JWT
	// Logs, when set, receives the JSON logs too (Stack.Logs always does).
	Logs io.Writer
	// HTTP and WS, when set, build the HTTP API and the websocket server
	// on the stack; each runs on its own httptest listener.
	HTTP, WS func(*Stack) Server
	// ServerTimeout is the ReadTimeout and WriteTimeout of the listeners'
	// http.Server; 0 for none.
	ServerTimeout time.Duration
}

// Server is one listener of a stack: its handler, and what to close
// before the listener stops (the websocket server's sockets); Close may
// be nil.
type Server struct {
	Handler http.Handler
	Close   func()
}

// Stack is the store, hub, service, accounts and tasks of one notifyd,
// and the listeners its Config asked for.
type Stack struct {
	Store    *store.Store
	Hub      *notify.Hub
	Service  *notify.Service
	Accounts *notify.Accounts
	Tasks    *notify.Tasks
	Logger   *slog.Logger
	Logs     *LogBuffer // every log line, JSON
	JWT      config.JWT // the token settings the accounts use

	HTTPURL string // http://127.0.0.1:port of the HTTP API, when Config.HTTP is set
	WSURL   string // ws://127.0.0.1:port/ws of the websocket server, when Config.WS is set
	// Client dials and calls the listeners; its connections close when
	// the test ends.
	Client *http.Client
}

// CheapPasswords makes argon2id cost 1 MiB and one pass: the production
// parameters take tens of milliseconds per hash, and the suites hash
// hundreds of times under -race on a shared machine. The cost changes no
// behaviour a test checks.
func CheapPasswords() notify.PasswordParams {
	return notify.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}
}

// NewStack builds a stack; everything it started stops when the test
// ends, the listeners first and the database last.
func NewStack(tb testing.TB, cfg Config) *Stack {
	tb.Helper()
	st := cfg.Store
	if st == nil {
		st = storetest.Open(tb)
	}
	logs := &LogBuffer{}
	out := io.MultiWriter(tb.Output(), logs)
	if cfg.Logs != nil {
		out = io.MultiWriter(out, cfg.Logs)
	}
	logger := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Hub == (notify.HubConfig{}) {
		cfg.Hub = notifytest.HubConfig()
	}
	if cfg.Metrics != nil {
		cfg.Hub.Observer = cfg.Metrics
	}
	if cfg.Accounts == (notify.AccountsConfig{}) {
		cfg.Accounts = notifytest.AccountsConfig()
	}
	if cfg.Accounts.Password == (notify.PasswordParams{}) {
		cfg.Accounts.Password = CheapPasswords()
	}
	jwt := jwtauthtest.Config()
	if cfg.JWT != nil {
		jwt = *cfg.JWT
	}
	// One cache of external ids for both, as in run.
	external := &notify.ExternalIDs{}
	acc, err := notify.NewAccounts(st, cfg.Accounts, jwtauthtest.Verifier(tb, jwt), external)
	if err != nil {
		tb.Fatalf("new accounts: %v", err)
	}
	hub := notify.NewHub(cfg.Hub)
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notify.BatchConfig{}, logger, external)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			tb.Errorf("close the service: %v", err)
		}
	})
	tasks := notify.NewTasks(svc, logger)
	tb.Cleanup(tasks.Close)
	transport := &http.Transport{}
	tb.Cleanup(transport.CloseIdleConnections)
	s := &Stack{Store: st, Hub: hub, Service: svc, Accounts: acc, Tasks: tasks, Logger: logger, Logs: logs, JWT: jwt,
		Client: &http.Client{Transport: transport}}
	if cfg.HTTP != nil {
		s.HTTPURL = s.serve(tb, cfg.HTTP(s), cfg.ServerTimeout)
	}
	if cfg.WS != nil {
		s.WSURL = "ws" + strings.TrimPrefix(s.serve(tb, cfg.WS(s), cfg.ServerTimeout), "http") + "/ws"
	}
	return s
}

// serve starts srv on a local port and returns its http:// URL.
func (s *Stack) serve(tb testing.TB, srv Server, timeout time.Duration) string {
	tb.Helper()
	ts := httptest.NewUnstartedServer(srv.Handler)
	ts.Config.ReadTimeout, ts.Config.WriteTimeout = timeout, timeout
	ts.Start()
	tb.Cleanup(func() {
		if srv.Close != nil {
			srv.Close()
		}
		ts.Close()
	})
	return ts.URL
}

// API returns a client of the stack's HTTP API.
func (s *Stack) API(tb testing.TB) *API {
	tb.Helper()
	return NewAPI(tb, s.HTTPURL)
}

// Session creates the user name in the store with a session, and returns
// them with the session's secret.
func (s *Stack) Session(tb testing.TB, name string) (notify.User, notify.Session, string) {
	tb.Helper()
	u := storetest.User(tb, s.Store, name)
	secret, sess, err := s.Accounts.NewSession(context.Background(), u.ID)
	if err != nil {
		tb.Fatalf("new session: %v", err)
	}
	return u, sess, secret
}

// Notify stores a notification titled title for userID through the
// service, which pushes it to the user's sockets.
func (s *Stack) Notify(tb testing.TB, userID int64, title string) notify.Notification {
	tb.Helper()
	n, err := s.Service.Notify(context.Background(), userID, notify.NewNotification{Title: title})
	if err != nil {
		tb.Fatalf("notify: %v", err)
	}
	return n
}
