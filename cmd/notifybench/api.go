package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/client"
)

// apiTarget publishes through the project's Go client (client/), the way
// an app's backend does: to one notifyd, to several instances in turn, or
// to the persisted floor, which answers the same requests.
type apiTarget struct {
	clients []*client.Client // requests go round-robin over them
	next    atomic.Uint64
	opts    []client.CallOption // WithoutIdempotencyKey when keys are off
	// ext maps the user ids of the run to the external ids the publisher
	// API names them by; set once after setup, read-only while publishing.
	ext map[int64]string
}

// newAPIClient returns a Go client of base that never retries: a benchmark
// counts every failure and every round trip instead of hiding them in a
// retry (setup retries on its own, see setupUsers).
func newAPIClient(base, key string, timeout time.Duration, idle int) (*client.Client, error) {
	return client.New(base, key, client.WithHTTPClient(newHTTPClient(timeout, idle)), client.WithRetries(0))
}

// newAPITarget publishes through clients, with an Idempotency-Key on every
// create when keys is true.
func newAPITarget(clients []*client.Client, keys bool, ext map[int64]string) *apiTarget {
	t := &apiTarget{clients: clients, ext: ext}
	if !keys {
		t.opts = []client.CallOption{client.WithoutIdempotencyKey()}
	}
	return t
}

// pick returns the client of the next request.
func (a *apiTarget) pick() *client.Client {
	return a.clients[(a.next.Add(1)-1)%uint64(len(a.clients))]
}

// publishOne is POST /api/publisher/users/{external_id}/notifications.
func (a *apiTarget) publishOne(ctx context.Context, userID int64, content string) (int, error) {
	if _, err := a.pick().Notify(ctx, a.ext[userID], client.NewNotification{Title: "bench", Content: content}, a.opts...); err != nil {
		return 0, err
	}
	return 1, nil
}

// publishMany is POST /api/publisher/notifications with user_ids.
func (a *apiTarget) publishMany(ctx context.Context, userIDs []int64, content string) (int, error) {
	exts := make([]string, len(userIDs))
	for i, id := range userIDs {
		exts[i] = a.ext[id]
	}
	return a.pick().NotifyMany(ctx, exts, client.NewNotification{Title: "bench", Content: content}, a.opts...)
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
