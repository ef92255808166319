package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// API calls notifyd's HTTP API at BaseURL. It is safe for concurrent use.
type API struct {
	BaseURL string
	Client  *http.Client
	// Check, when set, sees every request Do sent with its answer: the
	// httpserver suite validates both against docs/openapi.yaml.
	Check func(tb testing.TB, req *http.Request, res Response)
}

// NewAPI returns a client of the API at baseURL (http://host:port) with a
// connection pool of its own, closed when the test ends. Its timeout only
// keeps a broken server from hanging the test.
func NewAPI(tb testing.TB, baseURL string) *API {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	tb.Cleanup(tr.CloseIdleConnections)
	return &API{BaseURL: baseURL, Client: &http.Client{Transport: tr, Timeout: Timeout}}
}

// Request is one HTTP request.
type Request struct {
	Method string
	Path   string
	// Body: a string or []byte is sent as is, an io.Reader chunked (no
	// Content-Length), anything else as JSON; nil sends no body. A body
	// is declared application/json.
	Body   any
	Bearer string       // the Authorization: Bearer credential (secret, token, API key)
	Cookie *http.Cookie // sent when not nil
	Origin string
	Header map[string]string
}

// Response is an answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// newRequest builds r for ctx.
func (a *API) newRequest(ctx context.Context, r Request) (*http.Request, error) {
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	case io.Reader:
		// Hidden behind MultiReader, the length is unknown: the body is
		// sent chunked.
		body = io.MultiReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		body = bytes.NewReader(enc)
	}
	hr, err := http.NewRequestWithContext(ctx, r.Method, a.BaseURL+r.Path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.Bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	if r.Cookie != nil {
		hr.AddCookie(r.Cookie)
	}
	if r.Origin != "" {
		hr.Header.Set("Origin", r.Origin)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	return hr, nil
}

// Do sends r and returns the answer; a request that gets no answer fails
// the test.
func (a *API) Do(tb testing.TB, r Request) Response {
	tb.Helper()
	hr, err := a.newRequest(context.Background(), r)
	if err != nil {
		tb.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	res, err := a.Client.Do(hr)
	if err != nil {
		tb.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", r.Method, r.Path, err)
	}
	got := Response{Status: res.StatusCode, Header: res.Header, Body: b}
	if a.Check != nil {
		a.Check(tb, hr, got)
	}
	return got
}

// Result is the outcome of Call: an answer (its status, and the fields of
// its JSON body the fault tests look at) or a transport error.
type Result struct {
	Status  int
	Code    string // error.code of an error answer
	ID      int64  // notification.id of a notification answer
	Sockets int    // sockets of an event answer
	Elapsed time.Duration
	Err     error // no answer (connection refused, reset...) or a malformed one
}

func (r Result) String() string {
	if r.Err != nil {
		return fmt.Sprintf("error %v after %v", r.Err, r.Elapsed)
	}
	return fmt.Sprintf("status %d code %q after %v", r.Status, r.Code, r.Elapsed)
}

// Call is Do without a testing.TB, for publishers and readers on their
// own goroutines: it reports what happened instead of failing. An error
// answer without the JSON error shape is an Err.
func (a *API) Call(ctx context.Context, r Request) Result {
	hr, err := a.newRequest(ctx, r)
	if err != nil {
		return Result{Err: err}
	}
	began := time.Now()
	res, err := a.Client.Do(hr)
	if err != nil {
		return Result{Err: err, Elapsed: time.Since(began)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	out := Result{Status: res.StatusCode, Elapsed: time.Since(began), Err: err}
	if err != nil {
		return out
	}
	var body struct {
		Error        ErrorBody `json:"error"`
		Notification struct {
			ID int64 `json:"id"`
		} `json:"notification"`
		Sockets int `json:"sockets"`
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &body); err != nil {
			out.Err = fmt.Errorf("status %d with a body that is not JSON: %q", res.StatusCode, data)
			return out
		}
	}
	if res.StatusCode >= 400 && (body.Error.Code == "" || body.Error.Message == "") {
		out.Err = fmt.Errorf("status %d without the JSON error shape: %q", res.StatusCode, data)
	}
	out.Code, out.ID, out.Sockets = body.Error.Code, body.Notification.ID, body.Sockets
	return out
}

// Publish is Call of POST /api/publisher/users/{ext}/notifications with
// a title and the publisher key apiKey, for the fault tests that look at
// every answer (201, 503, none); the others publish with Publisher.
func (a *API) Publish(ctx context.Context, apiKey, ext, title string) Result {
	return a.Call(ctx, Request{Method: "POST", Path: "/api/publisher/users/" + ext + "/notifications", Bearer: apiKey,
		Body: map[string]string{"title": title}})
}
