package client

import (
	"context"
	"net/http"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// The wire types are the domain's own (package notify): the server encodes
// and decodes these very types, so the client cannot drift from it. notify
// links no database, server or metrics library (TestLeanDomain, in notify).

// User is a notifyd user as the API returns it: an app's user has an
// ExternalID (and a Name when set), a self-signup account of the demo page
// a Username; what a user does not have is "" (null in the JSON). The
// password hash is never in an answer: it is always "" here.
type User = notify.User

// Style tells the frontend how to present a notification.
type Style = notify.Style

// The styles of a notification.
const (
	StyleInfo    = notify.StyleInfo
	StyleWarning = notify.StyleWarning
	StyleError   = notify.StyleError
)

// NewNotification is what Notify and NotifyMany store: Title of 1 to 200
// characters, Content of at most 4000, Style (info when empty), URL (an
// absolute http(s) URL or a path starting with a single "/"; "" for none)
// and Data (a JSON object of at most 4 KiB for the app's own use, returned
// as given). Normalize checks it as the server will.
type NewNotification = notify.NewNotification

// Notification is a stored notification. UserID is not in the JSON and is
// always 0 here: a publisher names users by their external id.
type Notification = notify.Notification

// Session is a session secret for a user's frontend.
type Session struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// PutUser creates the app's user externalID, or finds it, and sets its
// display name when name is not nil. created tells which happened.
func (c *Client) PutUser(ctx context.Context, externalID string, name *string) (u User, created bool, err error) {
	var body any
	if name != nil {
		body = map[string]string{"name": *name}
	}
	var out struct {
		User User `json:"user"`
	}
	status, err := c.do(ctx, http.MethodPut, userPath(externalID), body, nil, &out, retryAlways)
	return out.User, status == http.StatusCreated, err
}

// Notify stores a notification for the app's user externalID (created if
// notifyd does not know it yet) and pushes it to the user's open tabs.
// It carries an Idempotency-Key (see WithIdempotencyKey) and is retried on
// 503 and connection errors: it creates at most one notification (unless
// WithoutIdempotencyKey opts out).
func (c *Client) Notify(ctx context.Context, externalID string, n NewNotification, opts ...CallOption) (Notification, error) {
	o := callOptions(opts)
	var out struct {
		Notification Notification `json:"notification"`
	}
	header, r := o.createHeader()
	_, err := c.do(ctx, http.MethodPost, userPath(externalID, "/notifications"), n, header, &out, r)
	return out.Notification, err
}

// NotifyMany stores one copy of n for each of externalIDs (1 to 1000;
// duplicates merged, unknown ids created) in one transaction and returns
// how many it created. Retried and keyed like Notify.
func (c *Client) NotifyMany(ctx context.Context, externalIDs []string, n NewNotification, opts ...CallOption) (int, error) {
	o := callOptions(opts)
	body := struct {
		UserIDs []string `json:"user_ids"`
		NewNotification
	}{externalIDs, n}
	var out struct {
		Created int `json:"created"`
	}
	header, r := o.createHeader()
	_, err := c.do(ctx, http.MethodPost, "/api/publisher/notifications", body, header, &out, r)
	return out.Created, err
}

// SendEvent pushes a live event (never stored) to the open sockets of the
// app's user externalID and returns how many sockets it reached on the
// instance that answered. typ matches ^[a-z][a-z0-9_]{0,63}$; data is any
// JSON value of at most 16 KiB, nil for none. It is retried on 503 only:
// an event whose answer was lost may have been sent.
func (c *Client) SendEvent(ctx context.Context, externalID, typ string, data any) (int, error) {
	body := map[string]any{"type": typ}
	if data != nil {
		body["data"] = data
	}
	var out struct {
		Sockets int `json:"sockets"`
	}
	_, err := c.do(ctx, http.MethodPost, userPath(externalID, "/events"), body, nil, &out, retryUnavailable)
	return out.Sockets, err
}

// NewSession opens a session for the app's user externalID (created if
// needed) and returns its secret, for a frontend that authenticates with a
// secret rather than a token. Retried on 503 only.
func (c *Client) NewSession(ctx context.Context, externalID string) (Session, error) {
	var out Session
	_, err := c.do(ctx, http.MethodPost, userPath(externalID, "/sessions"), nil, nil, &out, retryUnavailable)
	return out, err
}
