package httpserver

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// sessionResolver resolves a session secret (notify.Accounts).
type sessionResolver interface {
	Authenticate(ctx context.Context, secret string) (notify.User, notify.Session, error)
}

// probeAPI serves the page's "am I signed in?" question.
type probeAPI struct {
	*responder
	accounts   sessionResolver
	cookieName string
}

type probeResponse struct {
	User *notify.User `json:"user"`
}

// session handles GET /api/session → 200 {"user": {...}} when the request
// carries a valid session, 200 {"user": null} when it carries none or a
// dead one. A logged-out visit is the normal case for the page, so it is
// no error: a 401 would show as a failed request in the browser console
// on every visit.
func (h *probeAPI) session(c *gin.Context) {
	secret, _, ok := sessionSecret(c.Request, h.cookieName)
	if !ok {
		writeJSON(c, http.StatusOK, probeResponse{})
		return
	}
	u, _, err := h.accounts.Authenticate(c.Request.Context(), secret)
	switch {
	case notify.ErrorCode(err) == notify.EUNAUTHORIZED:
		writeJSON(c, http.StatusOK, probeResponse{})
	case err != nil:
		h.renderError(c, err)
	default:
		c.Set(keyUser, u) // for the access log
		writeJSON(c, http.StatusOK, probeResponse{User: &u})
	}
}
