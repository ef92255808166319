package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Helpers of the fault tests (stress, database outage, slow consumer,
// garbage connections, SIGTERM). Unlike instance.api they never call
// tb.Fatal, so publishers and readers can use them from their own
// goroutines and report what happened.

// apiClient calls the HTTP API of one notifyd.
type apiClient struct {
	baseURL string
	client  *http.Client
}

// newAPIClient returns a client with its own connection pool, so that
// concurrent publishers reuse connections, closed when the test ends.
func newAPIClient(tb testing.TB, baseURL string) *apiClient {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	tb.Cleanup(tr.CloseIdleConnections)
	// The timeout only keeps a broken server from hanging the test; the
	// tests that care about speed measure each call themselves.
	return &apiClient{baseURL: baseURL, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// apiResult is the outcome of one API call: an answer (status, and the
// fields of its JSON body the tests look at) or a transport error.
type apiResult struct {
	status  int
	code    string // error.code of an error answer
	id      int64  // notification.id of a notification answer
	sockets int    // sockets of an event answer
	elapsed time.Duration
	err     error // no answer at all (connection refused, reset...)
}

func (r apiResult) String() string {
	if r.err != nil {
		return fmt.Sprintf("error %v after %v", r.err, r.elapsed)
	}
	return fmt.Sprintf("status %d code %q after %v", r.status, r.code, r.elapsed)
}

// newRequest builds a request with body, when not nil, as JSON (declared
// so: the API answers 415 otherwise) and a Bearer credential.
func (a *apiClient) newRequest(ctx context.Context, method, path, bearer string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.baseURL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req, nil
}

// do sends a JSON request with a Bearer credential and decodes the answer.
func (a *apiClient) do(ctx context.Context, method, path, bearer string, body any) apiResult {
	req, err := a.newRequest(ctx, method, path, bearer, body)
	if err != nil {
		return apiResult{err: err}
	}
	began := time.Now()
	resp, err := a.client.Do(req)
	if err != nil {
		return apiResult{err: err, elapsed: time.Since(began)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	res := apiResult{status: resp.StatusCode, elapsed: time.Since(began), err: err}
	if err != nil {
		return res
	}
	var out struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Notification struct {
			ID int64 `json:"id"`
		} `json:"notification"`
		Sockets int `json:"sockets"`
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			res.err = fmt.Errorf("status %d with a body that is not JSON: %q", resp.StatusCode, data)
			return res
		}
	}
	if resp.StatusCode >= 400 && (out.Error.Code == "" || out.Error.Message == "") {
		res.err = fmt.Errorf("status %d without the JSON error shape: %q", resp.StatusCode, data)
	}
	res.code, res.id, res.sockets = out.Error.Code, out.Notification.ID, out.Sockets
	return res
}

// notify publishes a notification titled title to the app's user ext.
func (a *apiClient) notify(ctx context.Context, ext string, title string) apiResult {
	return a.do(ctx, "POST", "/api/publisher/users/"+ext+"/notifications", testAPIKey,
		map[string]string{"title": title})
}

// event pushes a live event to the sockets of the app's user ext.
func (a *apiClient) event(ctx context.Context, ext string, typ string, data any) apiResult {
	return a.do(ctx, "POST", "/api/publisher/users/"+ext+"/events", testAPIKey,
		map[string]any{"type": typ, "data": data})
}

// user creates the app's user ext through the publisher API (no password
// hashing) and a session for it, and returns the user id and the session
// secret.
func (a *apiClient) user(tb testing.TB, ext string) (int64, string) {
	tb.Helper()
	ctx := context.Background()
	var u struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if err := a.decode(ctx, "PUT", "/api/publisher/users/"+ext, testAPIKey, nil, http.StatusCreated, &u); err != nil {
		tb.Fatalf("create user %s: %v", ext, err)
	}
	var s struct {
		Secret string `json:"secret"`
	}
	if err := a.decode(ctx, "POST", "/api/publisher/users/"+ext+"/sessions", testAPIKey, nil, http.StatusCreated, &s); err != nil {
		tb.Fatalf("create session for %s: %v", ext, err)
	}
	return u.User.ID, s.Secret
}

// decode sends a request, checks the status and decodes the body into out.
func (a *apiClient) decode(ctx context.Context, method, path, bearer string, body any, want int, out any) error {
	req, err := a.newRequest(ctx, method, path, bearer, body)
	if err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode %q: %w", method, path, data, err)
	}
	return nil
}

// ids returns the id of every notification of the user whose session
// secret is secret, ascending: what the database holds, read through GET
// /api/notifications, newest first, paging back with before.
func (a *apiClient) ids(tb testing.TB, secret string) []int64 {
	tb.Helper()
	var all []int64
	path := "/api/notifications?limit=200"
	for {
		var page struct {
			Notifications []struct {
				ID int64 `json:"id"`
			} `json:"notifications"`
			HasMore bool `json:"has_more"`
		}
		if err := a.decode(context.Background(), "GET", path, secret, nil, http.StatusOK, &page); err != nil {
			tb.Fatalf("list notifications: %v", err)
		}
		for _, n := range page.Notifications {
			all = append(all, n.ID)
		}
		if !page.HasMore || len(page.Notifications) == 0 {
			break
		}
		path = fmt.Sprintf("/api/notifications?limit=200&before=%d", all[len(all)-1])
	}
	slices.Reverse(all)
	return all
}

// serverMsg is the part of a server message the fault tests look at.
type serverMsg struct {
	Type         string `json:"type"`
	Notification *struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	} `json:"notification"`
}

// openSocket dials wsURL, authenticates with secret and after_id — always
// sent, so 0 replays the user's whole history — and reads the hello.
func openSocket(ctx context.Context, wsURL, secret string, afterID int64, opts *websocket.DialOptions) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, wsURL, opts)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	auth, _ := json.Marshal(map[string]any{"type": "auth", "secret": secret, "after_id": afterID})
	if err := conn.Write(ctx, websocket.MessageText, auth); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("auth: %w", err)
	}
	m, err := readMsg(ctx, conn)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("hello: %w", err)
	}
	if m.Type != "hello" {
		conn.CloseNow()
		return nil, fmt.Errorf("first message %q, want hello", m.Type)
	}
	return conn, nil
}

// readMsg reads one message. coder/websocket closes the connection when
// ctx ends during a read, so ctx bounds the whole socket, not one read.
func readMsg(ctx context.Context, conn *websocket.Conn) (serverMsg, error) {
	typ, data, err := conn.Read(ctx)
	if err != nil {
		return serverMsg{}, err
	}
	if typ != websocket.MessageText {
		return serverMsg{}, fmt.Errorf("server sent a %v message", typ)
	}
	var m serverMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return serverMsg{}, fmt.Errorf("server sent %q: %w", data, err)
	}
	if m.Type == "notification" && m.Notification == nil {
		return serverMsg{}, fmt.Errorf("notification message without a notification: %q", data)
	}
	return m, nil
}

// checkExactlyOnce fails the test unless got is want: every id once, in
// strictly increasing order. It names the first difference.
func checkExactlyOnce(tb testing.TB, who string, got, want []int64) {
	tb.Helper()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			tb.Errorf("%s: id %d after %d (position %d): not strictly increasing (a duplicate or a reordering)", who, got[i], got[i-1], i)
			return
		}
	}
	if slices.Equal(got, want) {
		return
	}
	seen := make(map[int64]bool, len(got))
	for _, id := range got {
		seen[id] = true
	}
	var missing []int64
	for _, id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	tb.Errorf("%s: saw %d ids, the database holds %d; missing %v (first 20); saw %v ... %v",
		who, len(got), len(want), missing[:min(len(missing), 20)], got[:min(len(got), 5)], got[max(len(got)-5, 0):])
}
