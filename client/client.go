// Package client is the Go client of notifyd's publisher API: the calls an
// app's backend makes to create its users, publish notifications and live
// events, and open session secrets, addressed by the app's own user ids.
//
// Every create carries an Idempotency-Key (unless the caller opts out with
// WithoutIdempotencyKey), and calls that are safe to
// repeat are retried on 503 and on connection errors, with backoff, so a
// publisher that lost an answer never creates a notification twice:
//
//	c, err := client.New("http://localhost:8000", os.Getenv("NOTIFYD_KEY"))
//	n, err := c.Notify(ctx, "user-42", client.NewNotification{
//		Title: "Video ready", URL: "/videos/7",
//	}, client.WithIdempotencyKey("render-7-done"))
//
// Its types are package notify's, the very types the server encodes and
// decodes. Beyond the standard library it links only notify (the domain:
// no database, server or metrics library) and golang.org/x/crypto, with
// which notify hashes passwords (TestLeanDomain, in notify).
package client

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Client.
const (
	DefaultRetries    = 3                      // attempts after the first
	DefaultMinBackoff = 200 * time.Millisecond // first wait, doubling
	DefaultMaxBackoff = 5 * time.Second        // longest wait
	DefaultTimeout    = 10 * time.Second       // per attempt, when the HTTP client sets none
)

// Client calls one notifyd instance (or a load balancer in front of
// several). It is safe for concurrent use.
type Client struct {
	base       *url.URL
	key        string
	hc         *http.Client
	retries    int
	minBackoff time.Duration
	maxBackoff time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (default: a client with a 10 s
// timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetries sets how many times a call that may be repeated is retried
// after a 503 or a connection error (DefaultRetries); 0 turns retries off.
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(n, 0) } }

// WithBackoff sets the first and the longest wait between two attempts
// (200 ms doubling up to 5 s). A Retry-After header of the server wins
// when it is longer.
func WithBackoff(min, max time.Duration) Option {
	return func(c *Client) { c.minBackoff, c.maxBackoff = min, max }
}

// New returns a client of the notifyd HTTP API at baseURL (e.g.
// "http://localhost:8000") with a publisher key (auth.api_keys).
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: must be http(s)://host[:port]", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("client: the API key is empty")
	}
	c := &Client{
		base: u, key: apiKey, hc: &http.Client{Timeout: DefaultTimeout},
		retries: DefaultRetries, minBackoff: DefaultMinBackoff, maxBackoff: DefaultMaxBackoff,
	}
	for _, o := range opts {
		o(c)
	}
	c.minBackoff = max(c.minBackoff, time.Millisecond)
	c.maxBackoff = max(c.maxBackoff, c.minBackoff)
	return c, nil
}

// Error is an answer of notifyd other than 2xx: its status, and the code
// and message of its JSON error body ("invalid_request", "not_found",
// "unavailable"...). RetryAfter is the server's Retry-After, when given.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("notifyd: http %d", e.Status)
	}
	return fmt.Sprintf("notifyd: http %d %s: %s", e.Status, e.Code, e.Message)
}

// Code returns the notifyd error code of err ("" when err is not an
// *Error), so callers can switch on it.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// CallOption configures one call.
type CallOption func(*call)

type call struct {
	idempotencyKey string
	noKey          bool
}

// WithIdempotencyKey sets the Idempotency-Key of a create (1 to 255
// printable ASCII characters), for example the id of the job whose end the
// notification announces: the same key in another process, or after a
// restart, still creates at most one. Without it, the client makes a
// random key per call, which protects its own retries.
func WithIdempotencyKey(key string) CallOption { return func(c *call) { c.idempotencyKey = key } }

// WithoutIdempotencyKey sends a create with no Idempotency-Key, for a
// caller that removes duplicates itself or measures what the key costs
// (notifybench). Such a create is then retried on 503 only, like a
// session: after a lost answer it may or may not have been stored, and
// repeating it could store it twice.
func WithoutIdempotencyKey() CallOption { return func(c *call) { c.noKey = true } }

func callOptions(opts []CallOption) call {
	var c call
	for _, o := range opts {
		o(&c)
	}
	if c.idempotencyKey == "" && !c.noKey {
		b := make([]byte, 16)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
		c.idempotencyKey = "go-client-" + hex.EncodeToString(b)
	}
	return c
}

// createHeader is the header and retry rule of a create under c.
func (c call) createHeader() (http.Header, retry) {
	if c.noKey {
		return nil, retryUnavailable
	}
	return http.Header{"Idempotency-Key": {c.idempotencyKey}}, retryAlways
}

// userPath is the path of an external id, escaped for a path segment.
func userPath(externalID string, rest ...string) string {
	return "/api/publisher/users/" + url.PathEscape(externalID) + strings.Join(rest, "")
}
