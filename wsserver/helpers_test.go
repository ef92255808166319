package wsserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// testOrigin is the allowed origin of every test server.
const testOrigin = "http://localhost:8000"

// ioTimeout bounds each client read and write in tests, so a missing frame
// fails the test instead of hanging it. It is not an assertion on speed.
const ioTimeout = 15 * time.Second

// env is a websocket server over the real store, hub, service and
// accounts, listening on a random port.
type env struct {
	st     *store.Store
	hub    *notify.Hub
	svc    *notify.Service
	acc    *notify.Accounts
	srv    *Server
	ts     *httptest.Server
	url    string // ws://127.0.0.1:port/ws
	client *http.Client
}

// envConfig is what a test may tune before the server starts.
type envConfig struct {
	ws  config.WS
	hub notify.HubConfig
	// httpTimeout is the ReadTimeout and WriteTimeout of the
	// http.Server; 0 for none.
	httpTimeout time.Duration
	// metrics, when set, is given to the hub and the server.
	metrics *notify.Metrics
	// jwt configures the tokens accepted: by default jwtauthtest's;
	// no key: tokens are refused.
	jwt config.JWT
	// logs, when set, receives the server's logs (JSON) too.
	logs io.Writer
}

// newEnv starts a server; everything is closed when the test ends.
func newEnv(tb testing.TB, tune ...func(*envConfig)) *env {
	tb.Helper()
	st := storetest.Open(tb)
	ec := envConfig{ws: config.Default().WS, hub: notify.HubConfig{SendQueue: 256, MaxPerUser: 16},
		jwt: jwtauthtest.Config()}
	ec.ws.AllowedOrigins = []string{testOrigin}
	for _, f := range tune {
		f(&ec)
	}
	// Shown with -v or on failure. The server's goroutines end in the
	// cleanup below, before tb completes.
	logger := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if ec.logs != nil {
		logger = slog.New(slog.NewJSONHandler(io.MultiWriter(tb.Output(), ec.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if ec.metrics != nil {
		ec.hub.Metrics = ec.metrics
	}
	hub := notify.NewHub(ec.hub)
	acc, err := notify.NewAccounts(st, notify.AccountsConfig{
		Password: notify.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1},
	}, jwtauthtest.Verifier(tb, ec.jwt))
	if err != nil {
		tb.Fatalf("new accounts: %v", err)
	}
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notify.BatchConfig{}, logger)
	srv := New(ec.ws, Deps{Hub: hub, Watcher: svc, Accounts: acc, Store: st, Logger: logger, Metrics: ec.metrics})
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ReadTimeout, ts.Config.WriteTimeout = ec.httpTimeout, ec.httpTimeout
	ts.Start()
	transport := &http.Transport{}
	tb.Cleanup(func() {
		srv.Close()
		ts.Close()
		transport.CloseIdleConnections()
	})
	return &env{
		st: st, hub: hub, svc: svc, acc: acc, srv: srv, ts: ts,
		url:    "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws",
		client: &http.Client{Transport: transport},
	}
}

// login creates a user and a session, and returns the secret.
func (e *env) login(tb testing.TB, name string) (notify.User, notify.Session, string) {
	tb.Helper()
	u := storetest.User(tb, e.st, name)
	secret, sess, err := e.acc.NewSession(context.Background(), u.ID)
	if err != nil {
		tb.Fatalf("new session: %v", err)
	}
	return u, sess, secret
}

// dial opens a websocket with the given request headers.
func (e *env) dial(tb testing.TB, header http.Header) (*websocket.Conn, *http.Response, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	return websocket.Dial(ctx, e.url, &websocket.DialOptions{HTTPClient: e.client, HTTPHeader: header})
}

// open dials and fails the test if the upgrade is refused.
func (e *env) open(tb testing.TB, header http.Header) *client {
	tb.Helper()
	ws, _, err := e.dial(tb, header)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	c := &client{ws: ws}
	tb.Cleanup(func() { _ = ws.CloseNow() })
	return c
}

// connect opens a socket, authenticates with the auth message msg and
// checks the hello.
func (e *env) connect(tb testing.TB, msg string) *client {
	tb.Helper()
	c := e.open(tb, nil)
	c.send(tb, msg)
	if f := c.next(tb); f.Type != "hello" {
		tb.Fatalf("first frame = %q, want hello", f.Type)
	}
	return c
}

// notify stores a notification for userID through the service.
func (e *env) notify(tb testing.TB, userID int64, title string) notify.Notification {
	tb.Helper()
	n, err := e.svc.Notify(context.Background(), userID, notify.NewNotification{Title: title})
	if err != nil {
		tb.Fatalf("notify: %v", err)
	}
	return n
}

// authJSON is the JSON auth message; afterID < 0 leaves after_id out.
func authJSON(secret string, afterID int64) string {
	if afterID < 0 {
		return fmt.Sprintf(`{"type":"auth","secret":%q}`, secret)
	}
	return fmt.Sprintf(`{"type":"auth","secret":%q,"after_id":%d}`, secret, afterID)
}

// frame is any server message.
type frame struct {
	Type         string               `json:"type"`
	User         *notify.User         `json:"user"`
	UnreadCount  *int64               `json:"unread_count"`
	Notification *notify.Notification `json:"notification"`
	ID           int64                `json:"id"`
	UpToID       *int64               `json:"up_to_id"`
	Event        *notify.Event        `json:"event"`
}

// client is a test's end of a socket.
type client struct {
	ws *websocket.Conn
}

func (c *client) send(tb testing.TB, msg string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		tb.Fatalf("write %q: %v", msg, err)
	}
}

// read returns the next message or the error that ended the socket.
func (c *client) read(tb testing.TB) (frame, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	if typ != websocket.MessageText {
		tb.Fatalf("server sent message type %v", typ)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatalf("server sent %q: %v", data, err)
	}
	return f, nil
}

// next returns the next message and fails the test if there is none.
func (c *client) next(tb testing.TB) frame {
	tb.Helper()
	f, err := c.read(tb)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return f
}

// expectClose asserts that the next read ends the socket with code.
func (c *client) expectClose(tb testing.TB, code int) {
	tb.Helper()
	f, err := c.read(tb)
	if err == nil {
		tb.Fatalf("got a %q message, want close %d", f.Type, code)
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusCode(code) {
		tb.Fatalf("close status = %d (%v), want %d", got, err, code)
	}
}

// nextNotification reads a "notification" message.
func (c *client) nextNotification(tb testing.TB) frame {
	tb.Helper()
	f := c.next(tb)
	if f.Type != "notification" || f.Notification == nil {
		tb.Fatalf("got %+v, want a notification", f)
	}
	return f
}

// eventually polls cond until it holds; for waiting on server-side state
// (an unregistered socket), never as a timing assertion.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer collects logs written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
