package httpserver

import (
	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// maxLoggedOrigin bounds how much of a refused Origin header is logged and
// echoed: the header comes from the client.
const maxLoggedOrigin = 200

// refuseOrigin answers a cookie request from a page whose origin is not in
// ws.allowed_origins with 403, and logs it at WARN with the origin and the
// allowed list: the usual cause is a page opened at another address than
// http.public_url (http://127.0.0.1:8000 for http://localhost:8000), and
// the operator must see why.
func (s *Server) refuseOrigin(c *gin.Context) {
	origin := truncate(c.GetHeader("Origin"), maxLoggedOrigin)
	s.logger.Warn("cookie request refused: origin not allowed",
		"origin", origin, "allowed_origins", s.cfg.AllowedOrigins,
		"method", c.Request.Method, "path", c.FullPath(),
		"hint", "set http.public_url (or ws.allowed_origins) to the address the page is opened at")
	s.renderError(c, errOriginNotAllowed(origin))
}

// errOriginNotAllowed says which origin was refused and what to change,
// for the page to show.
func errOriginNotAllowed(origin string) error {
	return notify.Errorf(notify.EFORBIDDEN,
		"origin %s not allowed; set http.public_url (or ws.allowed_origins) to the address of this page", origin)
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
