package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/store/storetest"
)

// testAPIKey is the publisher key of test instances.
const testAPIKey = testkit.APIKey

// instance is a notifyd started through run() on free ports.
type instance struct {
	HTTPURL    string // http://127.0.0.1:port
	WSURL      string // ws://127.0.0.1:port/ws
	MetricsURL string // http://127.0.0.1:port (metrics.addr)
	Env        map[string]string
	cancel     context.CancelFunc
	done       chan error
	logs       *testkit.LogBuffer
	// copied is closed when every log line notifyd wrote is in logs: run
	// can return while the last line is still between the pipe and logs.
	copied chan struct{}
}

// testEnv returns the environment of a test instance on a fresh database
// (SQLite, or Postgres when NOTIFYD_TEST_DATABASE_URL is set).
func testEnv(tb testing.TB) map[string]string {
	tb.Helper()
	db := storetest.Config(tb)
	env := map[string]string{
		"NOTIFYD_HTTP_ADDR":                "127.0.0.1:0",
		"NOTIFYD_WS_ADDR":                  "127.0.0.1:0",
		"NOTIFYD_METRICS_ADDR":             "127.0.0.1:0",
		"NOTIFYD_LOG_FORMAT":               "json",
		"NOTIFYD_LOG_LEVEL":                "debug",
		"NOTIFYD_AUTH_API_KEYS":            testAPIKey,
		"NOTIFYD_HTTP_SHUTDOWN_TIMEOUT":    "5s",
		"NOTIFYD_DATABASE_SQLITE_PATH":     db.SQLitePath,
		"NOTIFYD_DATABASE_URL":             db.URL,
		"NOTIFYD_AUTH_LOGIN_PER_MINUTE_IP": "1000",
	}
	return env
}

// environ turns m into an environment as os.Environ returns it.
func environ(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// start runs notifyd with env and waits until both listeners are up. The
// instance is stopped in tb.Cleanup if the test did not stop it.
func start(tb testing.TB, env map[string]string) *instance {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	inst := &instance{Env: env, cancel: cancel, done: make(chan error, 1), logs: &testkit.LogBuffer{}, copied: make(chan struct{})}
	go func() {
		err := run(ctx, []string{"-config", "/dev/null"}, environ(env), pw, pw)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		inst.done <- err
	}()

	ready := make(chan listening, 1)
	ended := make(chan error, 1)
	go func() {
		defer close(inst.copied)
		ended <- copyLog(pr, inst.logs, ready)
	}()
	select {
	case l, ok := <-ready:
		if !ok {
			cancel()
			tb.Fatalf("notifyd did not start: %v\nlogs:\n%s", <-ended, inst.logs.String())
		}
		inst.HTTPURL, inst.WSURL, inst.MetricsURL = l.HTTPURL, l.WSURL, l.MetricsURL
	case <-time.After(30 * time.Second):
		cancel()
		tb.Fatalf("notifyd did not report listening in 30s\nlogs:\n%s", inst.logs.String())
	}
	tb.Cleanup(func() { inst.stop(tb) })
	return inst
}

// listening is what notifyd's "listening" log record says.
type listening struct {
	HTTPURL, WSURL, MetricsURL string
}

// copyLog copies notifyd's log lines from r to logs until r ends and
// returns the reader's error. It sends the addresses of the first
// "listening" record on ready (which must have room for one) and closes
// ready when r ends, so a receiver that gets nothing knows notifyd ended
// before listening.
func copyLog(r io.Reader, logs io.Writer, ready chan<- listening) error {
	defer close(ready)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		logs.Write(append(append([]byte(nil), line...), '\n'))
		var rec struct {
			Msg         string `json:"msg"`
			HTTPAddr    string `json:"http_addr"`
			WSAddr      string `json:"ws_addr"`
			MetricsAddr string `json:"metrics_addr"`
		}
		if !sent && json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" {
			ready <- listening{"http://" + rec.HTTPAddr, "ws://" + rec.WSAddr + "/ws", "http://" + rec.MetricsAddr}
			sent = true
		}
	}
	return sc.Err()
}

// stop cancels run() and returns its error; safe to call twice.
func (in *instance) stop(tb testing.TB) error {
	tb.Helper()
	in.cancel()
	select {
	case err, ok := <-in.done:
		if ok {
			close(in.done)
		}
		select {
		case <-in.copied: // run closed the pipe before it returned
		case <-time.After(5 * time.Second):
			tb.Errorf("notifyd's log was not copied to its end in 5s")
		}
		return err
	case <-time.After(30 * time.Second):
		tb.Fatalf("notifyd did not stop in 30s\nlogs:\n%s", in.logs.String())
		return nil
	}
}

// api sends a JSON request and decodes the fields of the JSON answer that
// out names (if not nil).
func (in *instance) api(tb testing.TB, method, path, bearer string, body any, out any) int {
	tb.Helper()
	res := in.userAPI().Do(tb, testkit.Request{Method: method, Path: path, Bearer: bearer, Body: body})
	if out != nil {
		res.DecodeSome(tb, out)
	}
	return res.Status
}

// signup creates a user with a password and logs in, returning the user id
// and session secret.
func (in *instance) signup(tb testing.TB, name string) (int64, string) {
	tb.Helper()
	u, secret := in.userAPI().User(tb, name)
	return u.ID, secret
}

// userAPI returns a client of the instance's user API. It is built per
// call, on http.DefaultClient, because the process tests fill in HTTPURL
// of an instance they start themselves.
func (in *instance) userAPI() *testkit.API {
	return &testkit.API{BaseURL: in.HTTPURL, Client: http.DefaultClient}
}

// publisher returns the project's publisher client for the instance.
func (in *instance) publisher(tb testing.TB) *client.Client {
	tb.Helper()
	return testkit.Publisher(tb, in.HTTPURL, testAPIKey)
}

// session opens another session of the app's user ext and returns its
// secret.
func (in *instance) session(tb testing.TB, ext string) string {
	tb.Helper()
	s, err := in.publisher(tb).NewSession(context.Background(), ext)
	if err != nil {
		tb.Fatalf("session of %s: %v", ext, err)
	}
	return s.Secret
}

// notifyOne creates a notification titled hello for the app's user ext
// through the publisher API of in.
func notifyOne(tb testing.TB, in *instance, ext string) error {
	tb.Helper()
	_, err := in.publisher(tb).Notify(context.Background(), ext, client.NewNotification{Title: "hello"})
	return err
}

// external creates the app's user ext through the publisher API and a
// session for it, and returns the user id and the session secret.
func (in *instance) external(tb testing.TB, ext string) (int64, string) {
	tb.Helper()
	u, secret := testkit.NewExternalUser(tb, in.publisher(tb), ext)
	return u.ID, secret
}

// connect opens a socket to the instance with a session secret (or a
// token: the server tells them apart), starting at the user's newest id.
func (in *instance) connect(tb testing.TB, secret string) *testkit.Socket {
	tb.Helper()
	return testkit.Connect(tb, in.WSURL, testkit.SecretAuth(secret, -1), nil)
}
