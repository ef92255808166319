package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// setupConcurrency bounds the user and session requests in flight.
const setupConcurrency = 32

// setupAttempts is how often a setup request is tried before the run gives
// up: a busy server may answer 503 or 429 now and then.
const setupAttempts = 3

// apiClient calls notifyd's publisher API with an API key.
type apiClient struct {
	base string // e.g. http://127.0.0.1:8000
	key  string
	hc   *http.Client
	// ext maps the user ids of the run to the external ids the publisher
	// API names them by; set once after setup, read-only while publishing.
	ext map[int64]string
}

// apiError is a non-2xx answer, with the code of notifyd's error body.
type apiError struct {
	Status  int
	Code    string
	Message string
}

// Error names the status and notifyd's error code and message.
func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("http %d", e.Status)
	}
	return fmt.Sprintf("http %d %s: %s", e.Status, e.Code, e.Message)
}

// newHTTPClient returns a client that only ever talks to the address it is
// given: no proxy from the environment, no redirects. idle sizes the pool
// so that publishers reuse connections instead of piling up TIME_WAITs.
func newHTTPClient(timeout time.Duration, idle int) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post sends body as JSON to path and decodes a 2xx answer into out (when
// not nil); any other status is an *apiError.
func (a *apiClient) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read the body to the end so the connection goes back to the pool.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(data, &e) // best effort: a proxy may answer in HTML
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}

// postRetry is post with a few attempts on transport errors, 429 and 5xx.
func (a *apiClient) postRetry(ctx context.Context, path string, body, out any) error {
	var err error
	for attempt := 1; attempt <= setupAttempts; attempt++ {
		err = a.post(ctx, path, body, out)
		var ae *apiError
		if err == nil || ctx.Err() != nil || errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// benchUser is a notifyd user created for the run, with one session.
type benchUser struct {
	ID     int64
	Ext    string // the external id the publisher API names it by
	Secret string
}

// setupUsers creates (or finds) the users prefix-0 … prefix-(n-1) and one
// session each. done counts finished users for the progress line.
func setupUsers(ctx context.Context, api *apiClient, prefix string, n int, done *atomic.Int64) ([]benchUser, error) {
	users := make([]benchUser, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(setupConcurrency)
	for i := range n {
		g.Go(func() error {
			name := prefix + "-" + strconv.Itoa(i)
			// The session route creates the user when it is new.
			var s struct {
				Secret string `json:"secret"`
				User   struct {
					ID int64 `json:"id"`
				} `json:"user"`
			}
			if err := api.postRetry(ctx, "/api/publisher/users/"+name+"/sessions", struct{}{}, &s); err != nil {
				return fmt.Errorf("create user %s and its session: %w", name, err)
			}
			if s.User.ID <= 0 || s.Secret == "" {
				return fmt.Errorf("user %s: answer without id or secret", name)
			}
			users[i] = benchUser{ID: s.User.ID, Ext: name, Secret: s.Secret}
			done.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	return users, nil
}

// socketSpecs spreads sockets round-robin over users: socket i belongs to
// user i mod len(users).
func socketSpecs(users []benchUser, sockets int) []socketSpec {
	specs := make([]socketSpec, sockets)
	for i := range specs {
		u := users[i%len(users)]
		specs[i] = socketSpec{Index: i, User: u.ID, Secret: u.Secret}
	}
	return specs
}

// socketsPerUser counts the sockets of each user that connected: each
// notification to that user should reach that many frames.
func socketsPerUser(specs []socketSpec, failed []int) map[int64]int {
	bad := make(map[int]bool, len(failed))
	for _, i := range failed {
		bad[i] = true
	}
	per := map[int64]int{}
	for _, s := range specs {
		if !bad[s.Index] {
			per[s.User]++
		}
	}
	return per
}
