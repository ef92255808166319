package httpserver

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// healthAPI serves the liveness and readiness probes and the public
// client configuration.
type healthAPI struct {
	*responder
	store Store
	ready func(ctx context.Context) error // New's ready check; nil: the database alone decides
	wsURL string                          // ws.public_url
	tasks bool                            // demo.tasks
	// allowedOrigins is ws.allowed_origins: a page compares its own
	// origin with it to say what is wrong, since a browser cannot read
	// why a websocket upgrade was refused.
	allowedOrigins []string
}

type statusResponse struct {
	Status string `json:"status"`
}

// healthz handles GET /healthz: the process answers.
func (h *healthAPI) healthz(c *gin.Context) {
	writeJSON(c, http.StatusOK, statusResponse{Status: "ok"})
}

// readyz handles GET /readyz: 200 when the database answers and New's ready check
// (the broker's Ready: connected, delivery lag within
// cluster.max_listener_lag) agrees, else 503.
func (h *healthAPI) readyz(c *gin.Context) {
	if err := h.store.Ping(c.Request.Context()); err != nil {
		// Any failure means "not ready"; the cause is logged by renderError.
		if notify.ErrorCode(err) != notify.EUNAVAILABLE {
			err = fmt.Errorf("%w: %w", notify.Errorf(notify.EUNAVAILABLE, "database unavailable"), err)
		}
		h.renderError(c, err)
		return
	}
	if h.ready != nil {
		if err := h.ready(c.Request.Context()); err != nil {
			if notify.ErrorCode(err) != notify.EUNAVAILABLE {
				err = fmt.Errorf("%w: %w", notify.Errorf(notify.EUNAVAILABLE, "not ready"), err)
			}
			h.renderError(c, err)
			return
		}
	}
	writeJSON(c, http.StatusOK, statusResponse{Status: "ok"})
}

type configResponse struct {
	WSURL          string   `json:"ws_url"`
	Tasks          bool     `json:"tasks"`
	AllowedOrigins []string `json:"allowed_origins"`
}

// config handles GET /api/config: where a frontend opens the websocket,
// whether the task demo is on (the page hides its form when not), and
// which page origins may open the websocket and use the session cookie.
func (h *healthAPI) config(c *gin.Context) {
	origins := h.allowedOrigins
	if origins == nil {
		origins = []string{}
	}
	writeJSON(c, http.StatusOK, configResponse{WSURL: h.wsURL, Tasks: h.tasks, AllowedOrigins: origins})
}
