package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// bareBodyLimit bounds a publish body read by the baselines.
const bareBodyLimit = 64 << 10

// notificationStore gives a notification its id and creation time: the
// floor inserts the row and commits (floorStore), the bare fan-out only
// counts (counterStore).
type notificationStore interface {
	add(ctx context.Context, user int64, n *rawNotificationBody) error
}

// counterStore is the bare fan-out's store: nothing is persisted, ids
// come from a counter.
type counterStore struct{ last atomic.Int64 }

// add numbers n and stamps it now.
func (c *counterStore) add(_ context.Context, _ int64, n *rawNotificationBody) error {
	n.ID = c.last.Add(1)
	n.CreatedAt = time.Now().UTC()
	return nil
}

// publishAPI is the publisher API of both baselines in a bare net/http
// handler: the request shape of notifyd's single and bulk publish, one
// store call per notification, then the frame to the user's sockets. The
// floor and the bare fan-out differ only in their store, so a ratio of the
// two is the price of the insert and its commit.
type publishAPI struct {
	key     string // the publisher key the requests must carry
	store   notificationStore
	sockets *rawServer
	// locks holds one mutex per user (1..users), taken from the store call
	// to the push: frames of one user then leave in id order, as notifyd
	// guarantees (it holds the user's row lock). Read-only after start.
	locks map[int64]*sync.Mutex
}

// newPublishAPI serves the users 1..users (see rawUsers).
func newPublishAPI(key string, users int, store notificationStore, sockets *rawServer) *publishAPI {
	a := &publishAPI{key: key, store: store, sockets: sockets, locks: make(map[int64]*sync.Mutex, users)}
	for i := range users {
		a.locks[int64(i+1)] = &sync.Mutex{}
	}
	return a
}

// routes returns the mux of the publisher API.
func (a *publishAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/publisher/users/{ext}/notifications", a.publishOne)
	mux.HandleFunc("POST /api/publisher/notifications", a.publishMany)
	return mux
}

// bareRequest is the body of a publish; UserIDs only in the bulk form.
type bareRequest struct {
	UserIDs []string `json:"user_ids"`
	Title   string   `json:"title"`
	Content string   `json:"content"`
	Style   string   `json:"style"`
}

// publishOne is POST /api/publisher/users/{ext}/notifications, ext being
// the user id: check the key, decode, store, push, answer 201 with the
// notification (the shape the Go client decodes).
func (a *publishAPI) publishOne(w http.ResponseWriter, r *http.Request) {
	in, ok := a.decode(w, r)
	if !ok {
		return
	}
	user, _ := strconv.ParseInt(r.PathValue("ext"), 10, 64)
	if a.locks[user] == nil {
		bareError(w, http.StatusNotFound, "not_found")
		return
	}
	body, err := a.notify(r.Context(), user, in)
	if err != nil {
		bareError(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(append(append([]byte(`{"notification":`), body...), '}'))
}

// publishMany is POST /api/publisher/notifications: one notification per
// user of user_ids (1 to maxBulkUsers, all known), each stored and pushed
// on its own; answers 201 with the count.
func (a *publishAPI) publishMany(w http.ResponseWriter, r *http.Request) {
	in, ok := a.decode(w, r)
	if !ok {
		return
	}
	if len(in.UserIDs) == 0 || len(in.UserIDs) > maxBulkUsers {
		bareError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	users := make([]int64, len(in.UserIDs))
	for i, ext := range in.UserIDs {
		users[i], _ = strconv.ParseInt(ext, 10, 64)
		if a.locks[users[i]] == nil {
			bareError(w, http.StatusNotFound, "not_found")
			return
		}
	}
	for _, u := range users {
		if _, err := a.notify(r.Context(), u, in); err != nil {
			bareError(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = fmt.Fprintf(w, `{"created":%d}`, len(users))
}

// decode checks the key and reads the body; false when it has answered.
func (a *publishAPI) decode(w http.ResponseWriter, r *http.Request) (bareRequest, bool) {
	var in bareRequest
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(auth), []byte(a.key)) != 1 {
		bareError(w, http.StatusUnauthorized, "unauthorized")
		return in, false
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, bareBodyLimit)).Decode(&in); err != nil || in.Title == "" {
		bareError(w, http.StatusBadRequest, "invalid_request")
		return in, false
	}
	if in.Style == "" {
		in.Style = "info"
	}
	return in, true
}

// notify stores one notification for user under the user's lock and
// pushes its frame; it returns the notification's JSON.
func (a *publishAPI) notify(ctx context.Context, user int64, in bareRequest) ([]byte, error) {
	lock := a.locks[user]
	lock.Lock()
	defer lock.Unlock()
	n := rawNotificationBody{Title: in.Title, Content: in.Content, Style: in.Style}
	if err := a.store.add(ctx, user, &n); err != nil {
		return nil, err
	}
	body, err := json.Marshal(n)
	if err != nil {
		return nil, err // cannot happen: the message has only plain fields
	}
	a.sockets.push(user, notificationFrame(body))
	return body, nil
}

// bareError answers with notifyd's error shape, so the client reports the
// code.
func bareError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, code)
}

// baseline is one baseline server as the -serve child runs it: the raw
// sockets, and the publisher API in front of them on a port of its own.
type baseline struct {
	sockets *rawServer
	floor   *floorStore // nil for the bare fan-out
	ln      net.Listener
	srv     *http.Server
}

// startBaseline starts the sockets and the API over store; floor, when not
// nil, is store and is closed with the baseline.
func startBaseline(key string, users int, store notificationStore, floor *floorStore) (*baseline, error) {
	sockets, err := startRawServer()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sockets.close()
		return nil, err
	}
	b := &baseline{sockets: sockets, floor: floor, ln: ln}
	b.srv = &http.Server{Handler: newPublishAPI(key, users, store, sockets).routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }() // returns ErrServerClosed on close
	return b, nil
}

// url is the base URL of the publisher API.
func (b *baseline) url() string { return "http://" + b.ln.Addr().String() }

// close stops serving, ends the sockets and, for the floor, drops its
// scratch schema.
func (b *baseline) close() error {
	_ = b.srv.Close()
	b.sockets.close()
	if b.floor != nil {
		return b.floor.close()
	}
	return nil
}
