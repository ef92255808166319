// Package httpserver is the HTTP API of notifyd (gin): accounts, sessions,
// the notification inbox, the publisher API, the task demo, health checks
// and the embedded web inbox. Handlers parse and validate input, call the
// notify domain and render its results; they never touch the database
// directly except through the narrow Store interface declared here.
package httpserver

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/web"
)

// Config is what the HTTP API needs from the configuration.
type Config struct {
	HTTP config.HTTP
	Auth config.Auth
	Demo config.Demo // zero: the task demo is off
	// WSPublicURL is ws.public_url: handed to clients by /api/me and
	// /api/config, and allowed as a connect-src in the page's CSP.
	WSPublicURL string
	// AllowedOrigins is ws.allowed_origins, normalised to
	// "scheme://host[:port]": the origins a cookie-authenticated POST or
	// DELETE may come from (CSRF rule).
	AllowedOrigins []string
}

// Store is what the HTTP API reads directly from the database; every write
// goes through notify.Service or notify.Accounts. store.Store implements it.
type Store interface {
	// Ping fails with EUNAVAILABLE when the database does not answer.
	Ping(ctx context.Context) error
	// ListNotifications returns a page of userID's notifications and whether
	// there are more.
	ListNotifications(ctx context.Context, userID int64, q notify.ListQuery) ([]notify.Notification, bool, error)
	// UnreadCount returns the number of unread notifications of userID.
	UnreadCount(ctx context.Context, userID int64) (int64, error)
}

// deps are the collaborators of the HTTP API, the parameters of New held
// together: handlers take what they need from them in routes.
type deps struct {
	Store    Store
	Service  *notify.Service
	Accounts *notify.Accounts
	Tasks    *notify.Tasks
	// Ready is the broker's readiness check (notify.Broker.Ready), asked
	// by /readyz after the database ping; nil: the database alone decides.
	Ready   func(ctx context.Context) error
	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

// Server is the HTTP API. It holds no goroutines: there is nothing to
// close besides the http.Server that serves Handler.
type Server struct {
	*responder
	cfg     Config
	deps    deps
	engine  *gin.Engine
	apiKeys apiKeys
	cookie  cookieSettings
	limits  loginLimits
	headers headerValues
	now     func() time.Time
}

// New builds the HTTP API. cfg comes from a validated config.Config
// (config.Default holds the defaults; New substitutes none). st, svc and
// accounts serve the routes; tasks runs the task demo, used only when
// cfg.Demo.Tasks is set; ready is the broker's readiness check
// (notify.Broker.Ready), asked by /readyz after the database answers
// (nil: the database alone decides); m counts requests by route and may
// be nil (nothing recorded).
func New(cfg Config, st Store, svc *notify.Service, accounts *notify.Accounts, tasks *notify.Tasks,
	ready func(ctx context.Context) error, logger *slog.Logger, m *metrics.Metrics) *Server {
	return newServer(cfg, deps{Store: st, Service: svc, Accounts: accounts, Tasks: tasks,
		Ready: ready, Logger: logger, Metrics: m}, web.Files())
}

// newServer is New with the static files as a parameter, so tests can
// serve a known set of files.
func newServer(cfg Config, d deps, static fs.FS) *Server {
	cfg.AllowedOrigins = normalizeOrigins(cfg.AllowedOrigins)
	cfg.HTTP.CORSOrigins = normalizeOrigins(cfg.HTTP.CORSOrigins)
	s := &Server{
		responder: &responder{logger: d.Logger, maxBody: cfg.HTTP.MaxBodyBytes},
		cfg:       cfg,
		deps:      d,
		apiKeys:   newAPIKeys(cfg.Auth.APIKeys),
		cookie:    newCookieSettings(cfg.HTTP.PublicURL, cfg.Auth.CookieSecure),
		headers:   newHeaderValues(),
		now:       time.Now,
	}
	s.limits = newLoginLimits(cfg.Auth, s.clock)
	s.engine = s.newEngine()
	s.routes(static)
	return s
}

// clock reads s.now, so tests can move time for the limiters.
func (s *Server) clock() time.Time { return s.now() }

// Handler returns the http.Handler serving the API and the web inbox.
func (s *Server) Handler() http.Handler { return s.engine }

// newEngine creates the gin engine with our settings and the middleware
// that runs on every request, matched or not.
func (s *Server) newEngine() *gin.Engine {
	// gin prints a warning on gin.New and every route it registers while
	// its package-global mode is "debug" (its default unless GIN_MODE is
	// set), and that mode can only be changed globally. Release mode
	// changes nothing else that we use, and SetMode is atomic, so setting it
	// here is safe even when several servers are built concurrently.
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Unknown paths and methods get our JSON errors, not redirects.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	// Every request carries its own context; handlers use
	// c.Request.Context() explicitly, so no fallback is needed.
	e.ContextWithFallback = false
	// The client IP is the socket's peer unless the peer is a configured
	// proxy. gin.New trusts every proxy (0.0.0.0/0, ::/0) until
	// SetTrustedProxies is called; with an empty list it trusts none.
	e.TrustedPlatform = ""
	if err := e.SetTrustedProxies(s.cfg.HTTP.TrustedProxies); err != nil {
		// config.Validate rejects bad entries; should one get here anyway,
		// trust no proxy rather than some.
		s.logger.Error("http.trusted_proxies is invalid; trusting no proxy", "error", err)
		_ = e.SetTrustedProxies(nil)
	}
	e.Use(s.requestID, s.accessLog, s.countRequests, s.recovery, s.securityHeaders, s.cors, s.limitBody)
	e.NoRoute(s.noRoute)
	e.NoMethod(s.noMethod)
	return e
}

// normalizeOrigins lower-cases origins and drops trailing slashes, so they
// compare exactly with a browser's Origin header.
func normalizeOrigins(in []string) []string {
	out := make([]string, 0, len(in))
	for _, o := range in {
		o = strings.TrimRight(strings.ToLower(strings.TrimSpace(o)), "/")
		if o != "" {
			out = append(out, o)
		}
	}
	return out
}
