package httpserver

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// Keys of the values middleware stores in the gin context.
const (
	keyRequestID = "notifyd.request_id"
	keyUser      = "notifyd.user"
	keySession   = "notifyd.session"
	keyPublisher = "notifyd.publisher" // SHA-256 of the publisher's API key
)

// requestIDHeader carries the request id back to the client (and in from a
// proxy that already assigned one).
const requestIDHeader = "X-Request-ID"

// requestID gives every request an id for the logs and the response
// header. An incoming id is kept only when it is short and plain, so a
// client cannot inject arbitrary text into the logs.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !plainID(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
		id = hex.EncodeToString(b)
	}
	c.Set(keyRequestID, id)
	c.Header(requestIDHeader, id)
	c.Next()
}

func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func requestIDOf(c *gin.Context) string { return c.GetString(keyRequestID) }

// accessLog logs one line per request: 5xx at Error, 4xx at Warn, the rest
// at Info. It logs the path without the query string and never a header,
// so secrets, cookies and Authorization values stay out of the logs.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("request_id", requestIDOf(c)),
		slog.String("client_ip", c.ClientIP()),
	}
	if u, ok := userOf(c); ok {
		attrs = append(attrs, slog.Int64("user_id", u.ID))
	}
	s.logger.LogAttrs(c.Request.Context(), level, "http request", attrs...)
}

// recovery turns a panic in a handler into the internal error response
// (gin's own recovery writes a bare 500 and dumps the request to its global
// writer). The panic and its stack are logged with the request id.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			// net/http's signal to drop the connection silently.
			panic(v)
		}
		s.logger.Error("panic in handler",
			"request_id", requestIDOf(c), "method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			writeJSON(c, http.StatusInternalServerError,
				errorBody{Error: errorDetail{Code: notify.EINTERNAL, Message: internalMessage}})
		}
		c.Abort()
	}()
	c.Next()
}

// limitBody caps every request body at http.max_body_bytes, on every
// route: a declared length over the cap is refused at once, and a body
// that turns out longer fails to read (decodeJSON maps that to 413).
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.maxBody {
		s.renderError(c, errTooLarge(s.maxBody))
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody)
	}
	c.Next()
}

// securityHeaders sets the headers every response carries. API responses
// may hold session secrets, so no cache may keep them.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if isAPIPath(c.Request.URL.Path) {
		h.Set("Cache-Control", "no-store")
	}
	c.Next()
}

func isAPIPath(p string) bool { return p == "/api" || strings.HasPrefix(p, "/api/") }

// cors answers cross-origin requests from http.cors_origins, and only
// those; with the list empty (the default) it adds nothing. Credentials are
// allowed, so the origin is reflected rather than "*".
func (s *Server) cors(c *gin.Context) {
	if len(s.cfg.HTTP.CORSOrigins) == 0 {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	origin := c.GetHeader("Origin")
	allowed := origin != "" && slices.Contains(s.cfg.HTTP.CORSOrigins, strings.ToLower(origin))
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-ID")
	}
	preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
	if !preflight {
		c.Next()
		return
	}
	if !allowed {
		s.renderError(c, errForbiddenOrigin())
		return
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	c.AbortWithStatus(http.StatusNoContent)
}
