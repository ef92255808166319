package httpserver

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// inboxService is what the inbox routes need from notify.Service: every
// change goes through it, so it reaches the user's open sockets.
type inboxService interface {
	SetRead(ctx context.Context, userID, id int64, read bool) (notify.Notification, error)
	MarkAllRead(ctx context.Context, userID, upToID int64) (int64, error)
	Delete(ctx context.Context, userID, id int64) error
}

// notificationAPI serves the caller's own notifications. Every call is
// scoped to the authenticated user: another user's id is "not found".
type notificationAPI struct {
	*responder
	store   Store
	service inboxService
}

const notificationNotFound = "notification not found"

type listResponse struct {
	Notifications []notify.Notification `json:"notifications"`
	HasMore       bool                  `json:"has_more"`
}

type notificationResponse struct {
	Notification notify.Notification `json:"notification"`
}

// list handles GET /api/notifications?limit&before&after&unread.
func (h *notificationAPI) list(c *gin.Context) {
	u, _ := userOf(c)
	q, err := listQuery(c)
	if err != nil {
		h.renderError(c, err)
		return
	}
	list, more, err := h.store.ListNotifications(c.Request.Context(), u.ID, q)
	if err != nil {
		h.renderError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, listResponse{Notifications: nonNil(list), HasMore: more})
}

// markRead handles POST /api/notifications/{id}/read.
func (h *notificationAPI) markRead(c *gin.Context) { h.setRead(c, true) }

// markUnread handles POST /api/notifications/{id}/unread.
func (h *notificationAPI) markUnread(c *gin.Context) { h.setRead(c, false) }

func (h *notificationAPI) setRead(c *gin.Context, read bool) {
	u, _ := userOf(c)
	id, err := pathID(c, notificationNotFound)
	if err != nil {
		h.renderError(c, err)
		return
	}
	n, err := h.service.SetRead(c.Request.Context(), u.ID, id, read)
	if err != nil {
		h.renderError(c, notFoundAs(err, notificationNotFound))
		return
	}
	writeJSON(c, http.StatusOK, notificationResponse{Notification: n})
}

type readAllRequest struct {
	// UpToID limits the change to ids <= UpToID, so a notification that
	// arrived after the user looked stays unread. Absent or null: all.
	UpToID *int64 `json:"up_to_id"`
}

type readAllResponse struct {
	Updated int64 `json:"updated"`
}

// readAll handles POST /api/notifications/read-all with an optional body
// {"up_to_id":N} → {"updated":n}.
func (h *notificationAPI) readAll(c *gin.Context) {
	u, _ := userOf(c)
	var req readAllRequest
	if err := h.decodeJSON(c, &req, bodyOptional); err != nil {
		h.renderError(c, err)
		return
	}
	var upTo int64 // 0: all
	if req.UpToID != nil {
		if *req.UpToID <= 0 {
			h.renderError(c, notify.Errorf(notify.EINVALID, "up_to_id: must be a positive integer id"))
			return
		}
		upTo = *req.UpToID
	}
	n, err := h.service.MarkAllRead(c.Request.Context(), u.ID, upTo)
	if err != nil {
		h.renderError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, readAllResponse{Updated: n})
}

// delete handles DELETE /api/notifications/{id} → 204.
func (h *notificationAPI) delete(c *gin.Context) {
	u, _ := userOf(c)
	id, err := pathID(c, notificationNotFound)
	if err != nil {
		h.renderError(c, err)
		return
	}
	if err := h.service.Delete(c.Request.Context(), u.ID, id); err != nil {
		h.renderError(c, notFoundAs(err, notificationNotFound))
		return
	}
	c.Status(http.StatusNoContent)
}

// notFoundAs gives an ENOTFOUND error from below a fixed message, so the
// client sees the same text whether the id does not exist or is someone
// else's.
func notFoundAs(err error, msg string) error {
	if notify.ErrorCode(err) == notify.ENOTFOUND {
		return notify.Errorf(notify.ENOTFOUND, "%s", msg)
	}
	return err
}
