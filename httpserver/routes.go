package httpserver

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/docs"
	"github.com/notifyd/notifyd/notify"
)

// routes registers every route of the HTTP API, in one place.
func (s *Server) routes(static fs.FS) {
	r := s.responder
	users := &userAPI{responder: r, accounts: s.deps.Accounts, store: s.deps.Store,
		limits: s.limits, allowSignup: s.cfg.Auth.AllowSignup, wsURL: s.cfg.WSPublicURL}
	sessionCap := sessionCap{accounts: s.deps.Accounts, sockets: s.deps.Service, logger: s.logger}
	sessions := &sessionAPI{responder: r, accounts: s.deps.Accounts, sockets: s.deps.Service,
		limits: s.limits, cookie: s.cookie, sessionCap: sessionCap}
	notifications := &notificationAPI{responder: r, store: s.deps.Store, service: s.deps.Service}
	publisher := &publisherAPI{responder: r, accounts: s.deps.Accounts, service: s.deps.Service, sessionCap: sessionCap}
	tasks := newTaskAPI(r, s.deps.Tasks, s.cfg.Demo, s.clock)
	health := &healthAPI{responder: r, store: s.deps.Store, ready: s.deps.Ready, wsURL: s.cfg.WSPublicURL,
		tasks: s.cfg.Demo.Tasks, allowedOrigins: s.cfg.AllowedOrigins}
	probe := &probeAPI{responder: r, accounts: s.deps.Accounts, cookieName: s.cookie.name}
	files := newStaticFiles(r, static, s.cfg.WSPublicURL)
	spec := openAPIDoc{spec: []byte(docs.OpenAPI())}

	e := s.engine
	e.GET("/healthz", health.healthz)
	e.GET("/readyz", health.readyz)

	api := e.Group("/api")
	api.GET("/config", health.config)
	api.GET("/openapi.yaml", spec.serve)
	api.POST("/users", s.requireSameSite, users.signup)
	api.POST("/sessions", s.requireSameSite, sessions.login)
	api.GET("/session", probe.session)

	user := api.Group("", s.requireUser)
	user.DELETE("/sessions/current", sessions.logout)
	user.DELETE("/sessions", sessions.logoutAll)
	user.GET("/me", users.me)
	user.GET("/notifications", notifications.list)
	user.POST("/notifications/read-all", notifications.readAll)
	user.POST("/notifications/:id/read", notifications.markRead)
	user.POST("/notifications/:id/unread", notifications.markUnread)
	user.DELETE("/notifications/:id", notifications.delete)
	user.POST("/tasks", tasks.start)

	pub := api.Group("/publisher", s.requirePublisher)
	pub.PUT("/users/:"+externalIDParam, publisher.putUser)
	pub.POST("/users/:"+externalIDParam+"/sessions", publisher.newSession)
	pub.POST("/users/:"+externalIDParam+"/notifications", publisher.createNotification)
	pub.POST("/users/:"+externalIDParam+"/events", publisher.event)
	pub.POST("/notifications", publisher.notifyMany)

	// The web inbox: GET and HEAD for each embedded file, "/" for
	// index.html.
	for _, p := range files.paths() {
		e.GET(p, files.serve)
		e.HEAD(p, files.serve)
	}
}

// noRoute answers every unknown path with the JSON 404.
func (s *Server) noRoute(c *gin.Context) {
	s.renderError(c, errNoRoute())
}

func errNoRoute() error { return notify.Errorf(notify.ENOTFOUND, "no such route") }

// noMethod answers a known path with an unsupported method with the JSON
// 405 (gin has set the Allow header). 405 has no notify code: it is a
// routing answer, not a domain error.
func (s *Server) noMethod(c *gin.Context) {
	writeJSON(c, http.StatusMethodNotAllowed,
		errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "method not allowed"}})
	c.Abort()
}
