package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// sessionAccounts is what the session routes need from notify.Accounts.
type sessionAccounts interface {
	Login(ctx context.Context, username, password string) (notify.User, string, notify.Session, error)
	Logout(ctx context.Context, s notify.Session) error
	LogoutAll(ctx context.Context, userID int64) ([]int64, error)
	SessionTTL() time.Duration
}

// socketCloser closes the sockets of revoked sessions (notify.Service).
type socketCloser interface {
	CloseSession(ctx context.Context, sessionID int64) int
	CloseSessions(ctx context.Context, sessionIDs []int64) int
}

// sessionAPI serves log-in and log-out.
type sessionAPI struct {
	*responder
	accounts   sessionAccounts
	sockets    socketCloser
	limits     loginLimits
	cookie     cookieSettings // from http.public_url and auth.cookie_secure
	sessionCap sessionCap
}

type loginResponse struct {
	Secret string      `json:"secret"`
	User   notify.User `json:"user"`
}

// login handles POST /api/sessions {username, password} → 201
// {"secret","user"} and sets the session cookie. Attempts are limited per
// client address and globally (checked first, before any work), and failed
// ones per (canonical username, client address).
func (h *sessionAPI) login(c *gin.Context) {
	req, ok := h.admitCredentials(c, h.limits)
	if !ok {
		return
	}
	// A name that breaks the username rules can belong to no account, so
	// it needs no bucket of its own; the address limit still applies.
	failures := ""
	if notify.ValidateUsername(req.Username) == nil {
		failures = failureKey(req.Username, c.ClientIP())
		if wait := h.limits.failures.check(failures); wait > 0 {
			h.rateLimited(c, wait)
			return
		}
	}
	u, secret, _, err := h.accounts.Login(c.Request.Context(), req.Username, req.Password)
	if err != nil {
		if failures != "" && notify.ErrorCode(err) == notify.EUNAUTHORIZED {
			h.limits.failures.take(failures)
		}
		h.renderError(c, err)
		return
	}
	h.sessionCap.enforce(c.Request.Context(), u.ID)
	c.Set(keyUser, u) // for the access log
	h.setCookie(c, secret, h.accounts.SessionTTL())
	writeJSON(c, http.StatusCreated, loginResponse{Secret: secret, User: u})
}

// logout handles DELETE /api/sessions/current → 204: the session is
// deleted, so its secret fails at once, its sockets are closed with 4401,
// and the cookie is cleared.
func (h *sessionAPI) logout(c *gin.Context) {
	sess, ok := sessionOf(c)
	if !ok {
		// A token is not a session: the app's backend ends it by not
		// signing another, and it expires at its exp.
		h.renderError(c, notify.Errorf(notify.EINVALID, "authorization: a token has no session to end; it expires at its exp"))
		return
	}
	ctx := c.Request.Context()
	if err := h.accounts.Logout(ctx, sess); err != nil {
		h.renderError(c, err)
		return
	}
	h.sockets.CloseSession(ctx, sess.ID)
	h.setCookie(c, "", 0)
	c.Status(http.StatusNoContent)
}

// logoutAll handles DELETE /api/sessions → 204 ("log out everywhere"):
// every session of the user is deleted, this one included, their sockets
// are closed with 4401, and the cookie is cleared.
func (h *sessionAPI) logoutAll(c *gin.Context) {
	u, _ := userOf(c)
	ctx := c.Request.Context()
	ids, err := h.accounts.LogoutAll(ctx, u.ID)
	if err != nil {
		h.renderError(c, err)
		return
	}
	h.sockets.CloseSessions(ctx, ids)
	h.setCookie(c, "", 0)
	c.Status(http.StatusNoContent)
}

// sessionTrimmer ends a user's sessions beyond the cap (notify.Accounts).
type sessionTrimmer interface {
	TrimSessions(ctx context.Context, userID int64) ([]int64, error)
}

// sessionCap ends a user's oldest sessions beyond
// auth.max_sessions_per_user once a new one is opened, and closes their
// sockets with 4401. Login and the publisher's session route share it.
type sessionCap struct {
	accounts sessionTrimmer
	sockets  socketCloser
	logger   *slog.Logger
}

// enforce runs after the new session of userID was made. The new session
// stands either way: a failure is logged, and the next session opened
// trims again.
func (sc sessionCap) enforce(ctx context.Context, userID int64) {
	ids, err := sc.accounts.TrimSessions(ctx, userID)
	if err != nil {
		sc.logger.Error("trim sessions", "user_id", userID, "error", err)
		return
	}
	sc.sockets.CloseSessions(ctx, ids)
}

// setCookie sets the session cookie for ttl, or clears it when ttl is 0.
// HttpOnly keeps it from scripts; SameSite=Lax keeps it off cross-site
// POSTs (the Origin check in requireUser is the second line).
func (h *sessionAPI) setCookie(c *gin.Context, secret string, ttl time.Duration) {
	maxAge := int(ttl / time.Second)
	if ttl <= 0 {
		maxAge = -1 // "Max-Age=0": delete now
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     h.cookie.name,
		Value:    secret,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.cookie.secure,
		SameSite: http.SameSiteLaxMode,
	})
}
