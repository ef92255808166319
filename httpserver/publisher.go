package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// publisherAccounts is what the publisher routes need from notify.Accounts.
type publisherAccounts interface {
	EnsureUser(ctx context.Context, username string) (notify.User, bool, error)
	NewSession(ctx context.Context, userID int64) (string, notify.Session, error)
	User(ctx context.Context, id int64) (notify.User, error)
}

// publisherService is what the publisher routes need from notify.Service.
type publisherService interface {
	Notify(ctx context.Context, userID int64, n notify.NewNotification) (notify.Notification, error)
	NotifyMany(ctx context.Context, userIDs []int64, n notify.NewNotification) (int, error)
	SendEvent(ctx context.Context, userID int64, e notify.Event) (int, error)
}

// publisherAPI serves the API-key routes another backend integrates with.
type publisherAPI struct {
	*responder
	accounts   publisherAccounts
	service    publisherService
	sessionCap sessionCap
}

const userNotFound = "user not found"

type ensureUserRequest struct {
	Username string `json:"username"`
}

// ensureUser handles POST /api/publisher/users {username} → 201 {"user"}
// when created, 200 with the existing user otherwise (idempotent sync).
func (h *publisherAPI) ensureUser(c *gin.Context) {
	var req ensureUserRequest
	if err := h.decodeJSON(c, &req, bodyRequired); err != nil {
		h.renderError(c, err)
		return
	}
	u, created, err := h.accounts.EnsureUser(c.Request.Context(), req.Username)
	if err != nil {
		h.renderError(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(c, status, userResponse{User: u})
}

type publisherSessionResponse struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

// newSession handles POST /api/publisher/users/{id}/sessions → 201
// {"secret","expires_at"}: the backend hands the secret to its frontend.
func (h *publisherAPI) newSession(c *gin.Context) {
	u, ok := h.user(c)
	if !ok {
		return
	}
	secret, sess, err := h.accounts.NewSession(c.Request.Context(), u.ID)
	if err != nil {
		h.renderError(c, err)
		return
	}
	h.sessionCap.enforce(c.Request.Context(), u.ID)
	writeJSON(c, http.StatusCreated, publisherSessionResponse{Secret: secret, ExpiresAt: sess.ExpiresAt})
}

// createNotification handles POST /api/publisher/users/{id}/notifications {title,
// content, style} → 201 {"notification"}.
func (h *publisherAPI) createNotification(c *gin.Context) {
	id, err := pathID(c, userNotFound)
	if err != nil {
		h.renderError(c, err)
		return
	}
	var req notify.NewNotification
	if err := h.decodeJSON(c, &req, bodyRequired); err != nil {
		h.renderError(c, err)
		return
	}
	n, err := h.service.Notify(c.Request.Context(), id, req)
	if err != nil {
		h.renderError(c, notFoundAs(err, userNotFound))
		return
	}
	writeJSON(c, http.StatusCreated, notificationResponse{Notification: n})
}

// notifyManyRequest spells out the notification fields rather than
// embedding notify.NewNotification: encoding/json would name an embedded
// field "NewNotification.title" in its type errors.
type notifyManyRequest struct {
	UserIDs []int64      `json:"user_ids"`
	Title   string       `json:"title"`
	Content string       `json:"content"`
	Style   notify.Style `json:"style"`
}

type notifyManyResponse struct {
	Created int `json:"created"`
}

// notifyMany handles POST /api/publisher/notifications {user_ids, title,
// content, style} → 201 {"created":n}: unknown ids are skipped and
// duplicates merged, n counts the rows created.
func (h *publisherAPI) notifyMany(c *gin.Context) {
	var req notifyManyRequest
	if err := h.decodeJSON(c, &req, bodyRequired); err != nil {
		h.renderError(c, err)
		return
	}
	if len(req.UserIDs) == 0 || len(req.UserIDs) > notify.MaxBulkUsers {
		h.renderError(c, notify.Errorf(notify.EINVALID, "user_ids: must hold 1 to %d ids", notify.MaxBulkUsers))
		return
	}
	for _, id := range req.UserIDs {
		if id <= 0 {
			h.renderError(c, notify.Errorf(notify.EINVALID, "user_ids: must hold positive integer ids"))
			return
		}
	}
	nn := notify.NewNotification{Title: req.Title, Content: req.Content, Style: req.Style}
	n, err := h.service.NotifyMany(c.Request.Context(), req.UserIDs, nn)
	if err != nil {
		h.renderError(c, err)
		return
	}
	writeJSON(c, http.StatusCreated, notifyManyResponse{Created: n})
}

type eventRequest struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type eventResponse struct {
	Sockets int `json:"sockets"`
}

// event handles POST /api/publisher/users/{id}/events {type, data} → 202
// {"sockets":n}: pushed live to the user's open sockets, never stored.
func (h *publisherAPI) event(c *gin.Context) {
	id, err := pathID(c, userNotFound)
	if err != nil {
		h.renderError(c, err)
		return
	}
	var req eventRequest
	if err := h.decodeJSON(c, &req, bodyRequired); err != nil {
		h.renderError(c, err)
		return
	}
	e := notify.Event{Type: req.Type}
	// The size limit is on the encoded value, not on the client's
	// whitespace; null is the same as no data.
	if len(req.Data) > 0 && !bytes.Equal(req.Data, []byte("null")) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, req.Data); err != nil {
			h.renderError(c, notify.Errorf(notify.EINVALID, "data: must be a JSON value"))
			return
		}
		e.Data = buf.Bytes()
	}
	if err := e.Validate(); err != nil {
		h.renderError(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := h.accounts.User(ctx, id); err != nil {
		h.renderError(c, notFoundAs(err, userNotFound))
		return
	}
	n, err := h.service.SendEvent(ctx, id, e)
	if err != nil {
		h.renderError(c, err)
		return
	}
	writeJSON(c, http.StatusAccepted, eventResponse{Sockets: n})
}

// user resolves the {id} path parameter to an existing user, rendering
// 404 otherwise.
func (h *publisherAPI) user(c *gin.Context) (notify.User, bool) {
	id, err := pathID(c, userNotFound)
	if err != nil {
		h.renderError(c, err)
		return notify.User{}, false
	}
	u, err := h.accounts.User(c.Request.Context(), id)
	if err != nil {
		h.renderError(c, notFoundAs(err, userNotFound))
		return notify.User{}, false
	}
	return u, true
}
