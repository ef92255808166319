package httpserver

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// userAccounts is what the user routes need from notify.Accounts.
type userAccounts interface {
	Signup(ctx context.Context, username, password string) (notify.User, error)
}

// userAPI serves sign-up and the caller's own profile.
type userAPI struct {
	*responder
	accounts    userAccounts
	store       Store
	limits      loginLimits // sign-ups share the address and global login limits: each costs an argon2 hash
	allowSignup bool        // auth.allow_signup
	wsURL       string      // ws.public_url
}

type credentialsRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// admitCredentials starts a login or a sign-up: the client's address and
// the global rate are charged first, before any work (each attempt may
// cost an argon2 hash), then the body is read. When it reports false it
// has answered (429 or the body's error) and the handler stops.
func (s *responder) admitCredentials(c *gin.Context, limits loginLimits) (credentialsRequest, bool) {
	var req credentialsRequest
	if wait := limits.admit(c.ClientIP()); wait > 0 {
		s.rateLimited(c, wait)
		return req, false
	}
	if err := s.decodeJSON(c, &req, bodyRequired); err != nil {
		s.renderError(c, err)
		return req, false
	}
	return req, true
}

type userResponse struct {
	User notify.User `json:"user"`
}

// signup handles POST /api/users {username, password} → 201 {"user"}.
func (h *userAPI) signup(c *gin.Context) {
	if !h.allowSignup {
		h.renderError(c, notify.Errorf(notify.EFORBIDDEN, "sign-up is disabled"))
		return
	}
	req, ok := h.admitCredentials(c, h.limits)
	if !ok {
		return
	}
	u, err := h.accounts.Signup(c.Request.Context(), req.Username, req.Password)
	if err != nil {
		h.renderError(c, err)
		return
	}
	c.Set(keyUser, u) // for the access log
	writeJSON(c, http.StatusCreated, userResponse{User: u})
}

type meResponse struct {
	User          notify.User           `json:"user"`
	UnreadCount   int64                 `json:"unread_count"`
	Notifications []notify.Notification `json:"notifications"`
	WSURL         string                `json:"ws_url"`
}

// me handles GET /api/me: the caller, their unread count, their newest
// unread notifications (newest first) and where to open the websocket.
func (h *userAPI) me(c *gin.Context) {
	u, _ := userOf(c)
	ctx := c.Request.Context()
	unread, err := h.store.UnreadCount(ctx, u.ID)
	if err != nil {
		h.renderError(c, err)
		return
	}
	list, _, err := h.store.ListNotifications(ctx, u.ID, notify.ListQuery{Limit: meListLimit, UnreadOnly: true})
	if err != nil {
		h.renderError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, meResponse{User: u, UnreadCount: unread, Notifications: nonNil(list), WSURL: h.wsURL})
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil(list []notify.Notification) []notify.Notification {
	if list == nil {
		return []notify.Notification{}
	}
	return list
}
