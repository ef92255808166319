package testkit

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/notify"
)

// Password is the password of every user a test signs up.
const Password = "correct horse battery"

// APIKey is a publisher key (auth.api_keys) for test instances.
const APIKey = "testkit-publisher-key-0123456789abcdef"

// Signup creates the user name with Password through POST /api/users.
func (a *API) Signup(tb testing.TB, name string) notify.User {
	tb.Helper()
	var out struct {
		User notify.User `json:"user"`
	}
	a.Do(tb, Request{Method: "POST", Path: "/api/users", Body: credentials(name)}).
		Want(tb, http.StatusCreated).Decode(tb, &out)
	return out.User
}

// Login opens a session of name through POST /api/sessions and returns
// its secret.
func (a *API) Login(tb testing.TB, name string) string {
	tb.Helper()
	var out struct {
		Secret string      `json:"secret"`
		User   notify.User `json:"user"`
	}
	a.Do(tb, Request{Method: "POST", Path: "/api/sessions", Body: credentials(name)}).
		Want(tb, http.StatusCreated).Decode(tb, &out)
	return out.Secret
}

// User signs name up and logs it in.
func (a *API) User(tb testing.TB, name string) (notify.User, string) {
	tb.Helper()
	u := a.Signup(tb, name)
	return u, a.Login(tb, name)
}

func credentials(name string) map[string]string {
	return map[string]string{"username": name, "password": Password}
}

// NotificationIDs returns the id of every notification of the user whose
// session secret is secret, ascending: what the database holds, read
// through GET /api/notifications (newest first, paging back with before).
func (a *API) NotificationIDs(tb testing.TB, secret string) []int64 {
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
		a.Do(tb, Request{Method: "GET", Path: path, Bearer: secret}).Want(tb, http.StatusOK).DecodeSome(tb, &page)
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

// Publisher returns the project's publisher client (package client) for
// the instance at baseURL with the key apiKey. It does not retry unless
// opts say so: a test sees every 503 the server answers.
func Publisher(tb testing.TB, baseURL, apiKey string, opts ...client.Option) *client.Client {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	tb.Cleanup(tr.CloseIdleConnections)
	opts = append([]client.Option{client.WithRetries(0), client.WithHTTPClient(&http.Client{Transport: tr, Timeout: Timeout})}, opts...)
	c, err := client.New(baseURL, apiKey, opts...)
	if err != nil {
		tb.Fatalf("publisher client: %v", err)
	}
	return c
}

// NewExternalUser creates the app's user ext through the publisher API
// (no password hashing), failing unless it is new, and opens a session
// for it: it returns the user and the session secret.
func NewExternalUser(tb testing.TB, pub *client.Client, ext string) (client.User, string) {
	tb.Helper()
	ctx := context.Background()
	u, created, err := pub.PutUser(ctx, ext, nil)
	if err != nil || !created {
		tb.Fatalf("create user %s: created %v, %v", ext, created, err)
	}
	s, err := pub.NewSession(ctx, ext)
	if err != nil {
		tb.Fatalf("session of %s: %v", ext, err)
	}
	return u, s.Secret
}
