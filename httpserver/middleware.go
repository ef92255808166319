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

// Keys of the values middleware stores in the gin context. The request id
// is not one of them: it lives in the response header (requestIDOf), so a
// request that authenticates with an API key allocates no context map.
const (
	keyUser    = "notifyd.user"
	keySession = "notifyd.session"
)

// requestIDHeader carries the request id back to the client (and in from a
// proxy that already assigned one); requestIDKey is its canonical form,
// the key of the header maps, used to skip canonicalising it per request.
const (
	requestIDHeader = "X-Request-ID"
	requestIDKey    = "X-Request-Id"
)

// requestID gives every request an id for the logs and the response
// header. An incoming id is kept only when it is short and plain, so a
// client cannot inject arbitrary text into the logs.
func (s *Server) requestID(c *gin.Context) {
	var id string
	if in := c.Request.Header[requestIDKey]; len(in) > 0 && plainID(in[0]) {
		id = in[0]
	} else {
		id = newRequestID()
	}
	c.Writer.Header()[requestIDKey] = []string{id}
	c.Next()
}

// newRequestID is 64 random bits in hex.
func newRequestID() string {
	var raw [8]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
	var text [16]byte
	hex.Encode(text[:], raw[:])
	return string(text[:])
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

// requestIDOf returns the id requestID gave the request.
func requestIDOf(c *gin.Context) string {
	if id := c.Writer.Header()[requestIDKey]; len(id) > 0 {
		return id[0]
	}
	return ""
}

// accessLog logs one line per request: 5xx at Error, 4xx at Warn, the rest
// at Info. It logs the path without the query string and never a header,
// so secrets, cookies and Authorization values stay out of the logs.
// Nothing is built for a line whose level the logger drops (log.level =
// warn drops every 2xx): the attributes and the client address cost more
// than the rest of the middleware.
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
	ctx := c.Request.Context()
	if !s.logger.Enabled(ctx, level) {
		return
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
	s.logger.LogAttrs(ctx, level, "http request", attrs...)
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
	h["X-Content-Type-Options"] = s.headers.nosniff
	h["Referrer-Policy"] = s.headers.sameOrigin
	if isAPIPath(c.Request.URL.Path) {
		h["Cache-Control"] = s.headers.noStore
	}
	c.Next()
}

// headerValues are the values securityHeaders sets, made once and shared
// by every response rather than allocated for each: net/http only reads
// them (it copies the header map before writing it), and a Set or Add on
// the same header replaces the slice or appends to a copy (length and
// capacity are 1).
type headerValues struct {
	nosniff, sameOrigin, noStore []string
}

func newHeaderValues() headerValues {
	return headerValues{nosniff: []string{"nosniff"}, sameOrigin: []string{"same-origin"}, noStore: []string{"no-store"}}
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
