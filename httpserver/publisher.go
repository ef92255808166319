package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// publisherAccounts is what the publisher routes need from notify.Accounts.
type publisherAccounts interface {
	EnsureExternalUser(ctx context.Context, externalID string, name *string) (notify.User, bool, error)
	ExternalUser(ctx context.Context, externalID string) (notify.User, error)
	NewSession(ctx context.Context, userID int64) (string, notify.Session, error)
}

// publisherService is what the publisher routes need from notify.Service.
type publisherService interface {
	NotifyExternal(ctx context.Context, externalID string, n notify.NewNotification, idem *notify.Idempotency) (notify.Notification, *notify.Replayed, error)
	NotifyManyExternal(ctx context.Context, externalIDs []string, n notify.NewNotification, idem *notify.Idempotency) (int, *notify.Replayed, error)
	SendEvent(ctx context.Context, userID int64, e notify.Event) (int, error)
}

// publisherAPI serves the API-key routes another backend integrates with.
// Users are named by the app's own id, {external_id} in the path: a
// publisher call never reaches a self-signup account.
type publisherAPI struct {
	*responder
	accounts   publisherAccounts
	service    publisherService
	sessionCap sessionCap
	answers    sync.Pool // *[]byte: the buffers of writeNotificationAnswer
}

// externalIDParam is the path parameter naming a user by the app's id.
const externalIDParam = "external_id"

type putUserRequest struct {
	// Name is the display name; absent leaves it as it is, "" clears it.
	Name *string `json:"name"`
}

// putUser handles PUT /api/publisher/users/{external_id} with an optional
// {"name"} → 201 {"user"} when created, 200 when it existed (its name
// updated when given).
func (h *publisherAPI) putUser(c *gin.Context) {
	var req putUserRequest
	if err := h.decodeJSON(c, &req, bodyOptional); err != nil {
		h.renderError(c, err)
		return
	}
	u, created, err := h.accounts.EnsureExternalUser(c.Request.Context(), c.Param(externalIDParam), req.Name)
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
	Secret    string      `json:"secret"`
	ExpiresAt time.Time   `json:"expires_at"`
	User      notify.User `json:"user"`
}

// newSession handles POST /api/publisher/users/{external_id}/sessions →
// 201 {"secret","expires_at","user"}: the backend hands the secret to its
// frontend. An unknown external id is created: the app vouches for it.
func (h *publisherAPI) newSession(c *gin.Context) {
	ctx := c.Request.Context()
	u, _, err := h.accounts.EnsureExternalUser(ctx, c.Param(externalIDParam), nil)
	if err != nil {
		h.renderError(c, err)
		return
	}
	secret, sess, err := h.accounts.NewSession(ctx, u.ID)
	if err != nil {
		h.renderError(c, err)
		return
	}
	h.sessionCap.enforce(ctx, u.ID)
	writeJSON(c, http.StatusCreated, publisherSessionResponse{Secret: secret, ExpiresAt: sess.ExpiresAt, User: u})
}

// createNotification handles POST
// /api/publisher/users/{external_id}/notifications {title, content, style,
// url, data} → 201 {"notification"}. An unknown external id is created in
// the same transaction, so the notification waits for that person's
// first visit. With an Idempotency-Key, a retry gets the first answer.
func (h *publisherAPI) createNotification(c *gin.Context) {
	var req notify.NewNotification
	idem, ok := h.decodeCreate(c, &req, func(rows []notify.Inserted) any {
		return notificationAnswer(rows[0].Notification)
	})
	if !ok {
		return
	}
	n, replayed, err := h.service.NotifyExternal(c.Request.Context(), c.Param(externalIDParam), req, idem)
	if h.notCreated(c, err, replayed) {
		return
	}
	h.writeNotificationAnswer(c, n)
}

// notificationAnswer is the 201 body of a create, {"notification":...},
// encoded by Notification.AppendJSON into one buffer (the same bytes as
// json.Marshal of a notificationResponse, without reflection): the
// idempotency answer stored with a key. writeNotificationAnswer writes
// the same bytes.
func notificationAnswer(n notify.Notification) any {
	b, err := appendNotificationAnswer(make([]byte, 0, 320+len(n.Title)+len(n.Content)+len(n.Data)), n)
	if err != nil {
		return notificationResponse{Notification: n} // writeJSON renders the failure
	}
	return encodedJSON(b)
}

func appendNotificationAnswer(b []byte, n notify.Notification) ([]byte, error) {
	b = append(b, `{"notification":`...)
	b, err := n.AppendJSON(b)
	return append(b, '}'), err
}

// maxPooledAnswer bounds the buffers writeNotificationAnswer keeps: an
// answer is a few hundred bytes, unless the notification carries a lot.
const maxPooledAnswer = 4 << 10

// writeNotificationAnswer writes the 201 answer of a create of n, the
// bytes of notificationAnswer, from a buffer reused from one create to the
// next: an io.Writer does not retain what it is given, so the buffer is
// free again once the answer is written. Every create without a key saves
// the allocation of its answer.
func (h *publisherAPI) writeNotificationAnswer(c *gin.Context, n notify.Notification) {
	buf, _ := h.answers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	b, err := appendNotificationAnswer((*buf)[:0], n)
	if err != nil {
		writeJSON(c, http.StatusCreated, notificationResponse{Notification: n}) // renders the failure
	} else {
		c.Data(http.StatusCreated, "application/json; charset=utf-8", b)
	}
	if cap(b) <= maxPooledAnswer {
		*buf = b
		h.answers.Put(buf)
	}
}

// decodeCreate starts a create: the body is read into req and the
// Idempotency-Key, if any, is bound to it, answer making the 201 body a
// retry will get. When it reports false it has answered with the error
// and the handler stops.
func (h *publisherAPI) decodeCreate(c *gin.Context, req any, answer func([]notify.Inserted) any) (*notify.Idempotency, bool) {
	body, err := h.decodeJSONBody(c, req, bodyRequired)
	if err != nil {
		h.renderError(c, err)
		return nil, false
	}
	idem, err := idempotency(c, body, answer)
	if err != nil {
		h.renderError(c, err)
		return nil, false
	}
	return idem, true
}

// notCreated answers a create that created nothing: the error, or the
// answer replayed for an Idempotency-Key already used. When it reports
// false, the caller answers 201.
func (h *publisherAPI) notCreated(c *gin.Context, err error, replayed *notify.Replayed) bool {
	switch {
	case err != nil:
		h.renderError(c, err)
	case replayed != nil:
		writeReplayed(c, replayed)
	default:
		return false
	}
	return true
}

// notifyManyRequest spells out the notification fields rather than
// embedding notify.NewNotification: encoding/json would name an embedded
// field "NewNotification.title" in its type errors.
type notifyManyRequest struct {
	UserIDs []string        `json:"user_ids"`
	Title   string          `json:"title"`
	Content string          `json:"content"`
	Style   notify.Style    `json:"style"`
	URL     string          `json:"url"`
	Data    json.RawMessage `json:"data"`
}

type notifyManyResponse struct {
	Created int `json:"created"`
}

// notifyMany handles POST /api/publisher/notifications {user_ids (external
// ids), title, content, style, url, data} → 201 {"created":n}: duplicates
// are merged and unknown ids created, so n is the number of distinct ids.
func (h *publisherAPI) notifyMany(c *gin.Context) {
	var req notifyManyRequest
	idem, ok := h.decodeCreate(c, &req, func(rows []notify.Inserted) any {
		return notifyManyResponse{Created: notify.Created(rows)}
	})
	if !ok {
		return
	}
	nn := notify.NewNotification{Title: req.Title, Content: req.Content, Style: req.Style, URL: req.URL, Data: req.Data}
	n, replayed, err := h.service.NotifyManyExternal(c.Request.Context(), req.UserIDs, nn, idem)
	if h.notCreated(c, err, replayed) {
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

// event handles POST /api/publisher/users/{external_id}/events {type,
// data} → 202 {"sockets":n}: pushed live to the user's open sockets, never
// stored. An unknown external id has no socket: 202 {"sockets":0}, and
// nothing is created.
func (h *publisherAPI) event(c *gin.Context) {
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
	ext := c.Param(externalIDParam)
	if err := notify.ValidateExternalID(externalIDParam, ext); err != nil {
		h.renderError(c, err)
		return
	}
	ctx := c.Request.Context()
	u, err := h.accounts.ExternalUser(ctx, ext)
	if notify.ErrorCode(err) == notify.ENOTFOUND {
		writeJSON(c, http.StatusAccepted, eventResponse{Sockets: 0})
		return
	}
	if err != nil {
		h.renderError(c, err)
		return
	}
	n, err := h.service.SendEvent(ctx, u.ID, e)
	if err != nil {
		h.renderError(c, err)
		return
	}
	writeJSON(c, http.StatusAccepted, eventResponse{Sockets: n})
}
