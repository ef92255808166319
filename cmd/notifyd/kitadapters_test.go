package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/internal/testkit"
)

// The names below are the helpers outage_test.go and the cluster_*_test.go
// files were written with, kept as thin adapters over internal/testkit
// while another change rewrites the cluster delivery path and those files
// must not be edited. Delete each one once its last user calls the kit
// directly (grep the name).

// lockedBuffer is the kit's LogBuffer (cluster_kill_test.go).
type lockedBuffer = testkit.LogBuffer

// checkExactlyOnce is testkit.CheckExactlyOnce.
func checkExactlyOnce(tb testing.TB, who string, got, want []int64) {
	tb.Helper()
	testkit.CheckExactlyOnce(tb, who, got, want)
}

// openSocket opens an authenticated socket with after_id always sent (0
// replays the user's whole history); see testkit.Open.
func openSocket(ctx context.Context, wsURL, secret string, afterID int64, opts *websocket.DialOptions) (*websocket.Conn, error) {
	s, err := testkit.Open(ctx, wsURL, testkit.SecretAuth(secret, afterID), opts)
	if err != nil {
		return nil, err
	}
	return s.Conn(), nil
}

// readMsg reads one message; see testkit.Socket.ReadCtx.
func readMsg(ctx context.Context, conn *websocket.Conn) (testkit.Frame, error) {
	return testkit.Wrap(conn).ReadCtx(ctx)
}

// wsClient is a socket read as generic JSON maps.
type wsClient struct {
	conn *websocket.Conn
	s    *testkit.Socket
}

// dialWS connects with secret (after_id only when afterID > 0).
func dialWS(tb testing.TB, url, secret string, afterID int64) *wsClient {
	tb.Helper()
	if afterID <= 0 {
		afterID = -1
	}
	s := testkit.Connect(tb, url, testkit.SecretAuth(secret, afterID), nil)
	return &wsClient{conn: s.Conn(), s: s}
}

// next reads the next message as a map.
func (c *wsClient) next(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.s.Next(tb).Raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// apiClient calls the API of one notifyd without failing the test, for
// goroutines; see testkit.API.Call.
type apiClient struct{ *testkit.API }

// apiResult is the outcome of one call, in the fields outage_test.go reads.
type apiResult struct {
	status  int
	code    string
	id      int64
	elapsed time.Duration
	err     error
}

func newAPIClient(tb testing.TB, baseURL string) *apiClient {
	tb.Helper()
	return &apiClient{testkit.NewAPI(tb, baseURL)}
}

func (a *apiClient) do(ctx context.Context, method, path, bearer string, body any) apiResult {
	r := a.Call(ctx, testkit.Request{Method: method, Path: path, Bearer: bearer, Body: body})
	return apiResult{status: r.Status, code: r.Code, id: r.ID, elapsed: r.Elapsed, err: r.Err}
}

// notify publishes a notification titled title to the app's user ext.
func (a *apiClient) notify(ctx context.Context, ext, title string) apiResult {
	r := a.Publish(ctx, testAPIKey, ext, title)
	return apiResult{status: r.Status, code: r.Code, id: r.ID, elapsed: r.Elapsed, err: r.Err}
}

// user creates the app's user ext and a session; see testkit.NewExternalUser.
func (a *apiClient) user(tb testing.TB, ext string) (int64, string) {
	tb.Helper()
	u, secret := testkit.NewExternalUser(tb, testkit.Publisher(tb, a.BaseURL, testAPIKey), ext)
	return u.ID, secret
}

// ids is testkit.API.NotificationIDs.
func (a *apiClient) ids(tb testing.TB, secret string) []int64 {
	tb.Helper()
	return a.NotificationIDs(tb, secret)
}
