// Package wsserver is the websocket listener of notifyd: it upgrades
// requests on /ws, authenticates the first message with a session secret
// or a token of the app's backend, registers the socket in the
// notify.Hub, replays what a resuming client missed, and then writes the
// frames the hub queues for it, until the credential expires (expiry.go)
// or the socket ends otherwise.
//
// The protocol is described in issue 2 ("Websocket protocol") and
// docs/protocol.md. Every connection lives on a context owned by the
// Server, not on the upgrade request's, so Close can end them all.
package wsserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/gate"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
)

// SessionCookie and SecureSessionCookie are the cookies the HTTP API sets
// at login: the __Host- one when http.public_url is https, the plain one
// otherwise. A browser sends the one it got with the upgrade request, so an
// auth message without a secret can use it. Both are read, the __Host- one
// first, so this listener needs no knowledge of the page's URL.
const (
	SessionCookie       = "notifyd_session"
	SecureSessionCookie = "__Host-notifyd_session"
)

// Store is what the websocket server reads from the database (store.Store).
type Store interface {
	// UnreadCount returns the number of unread notifications of userID.
	UnreadCount(ctx context.Context, userID int64) (int64, error)
	// ListNotifications returns a page of userID's notifications; with
	// q.After set, oldest first with ids above q.After.
	ListNotifications(ctx context.Context, userID int64, q notify.ListQuery) ([]notify.Notification, bool, error)
	// MaxNotificationID returns the highest notification id of userID, 0
	// when there is none.
	MaxNotificationID(ctx context.Context, userID int64) (int64, error)
	// Position returns userID's newest notification id, change sequence
	// (users.seq) and unread count, read in one statement.
	Position(ctx context.Context, userID int64) (notify.Position, error)
}

// Watcher is told of each socket of a user (notify.Service, which tells
// its broker of the first and the last).
type Watcher interface {
	// Watch returns once every change of userID committed from then on
	// reaches this instance's hub; release when the socket has closed.
	Watch(ctx context.Context, userID int64) (release func(), err error)
	// Seen records the user's seq read by the socket's hello.
	Seen(userID, seq int64)
	// Local reports whether a socket may read its position with its
	// session, before Register and Watch (notify.Broker.Local).
	Local() bool
}

// deps are the collaborators of the Server, the parameters of New held
// together.
type deps struct {
	Hub      *notify.Hub
	Watcher  Watcher
	Accounts *notify.Accounts
	Store    Store
	// Metrics counts sockets, close codes, frames and delivery latency;
	// nil records nothing.
	Metrics *metrics.Metrics
}

// Server upgrades and serves websocket connections.
type Server struct {
	cfg    config.WS
	deps   deps
	logger *slog.Logger

	// base is the context every connection lives on; Close cancels it.
	base   context.Context
	cancel context.CancelFunc

	nextConnID atomic.Uint64
	unauth     *pending // sockets not authenticated yet

	// conns counts the connections; none starts after Close has begun.
	conns gate.Gate
}

// New returns a Server. cfg is the validated ws section (config.Default
// holds the defaults; tests start from it too). The sockets register in
// hub; watcher is told of each one (notify.Service); accounts checks the
// credentials; st serves the replay and the hello; m may be nil (nothing
// recorded).
func New(cfg config.WS, hub *notify.Hub, watcher Watcher, accounts *notify.Accounts, st Store,
	logger *slog.Logger, m *metrics.Metrics) *Server {
	base, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, logger: logger, base: base, cancel: cancel,
		deps:   deps{Hub: hub, Watcher: watcher, Accounts: accounts, Store: st, Metrics: m},
		unauth: newPending(cfg.MaxUnauthPerAddress, cfg.MaxUnauth)}
}

// Handler returns the HTTP handler of the websocket listener: /ws only.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveWS)
	return mux
}

// Close cancels every connection's context, which closes the open sockets
// with 1001, and waits until all their goroutines have ended. Upgrades
// after Close are refused with 503. It is safe to call more than once.
func (s *Server) Close() {
	s.conns.Close(s.cancel)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		s.refuseOrigin(w, r)
		return
	}
	// Refused before the upgrade, so the excess costs no goroutine.
	release, ok := s.unauth.acquire(r)
	if !ok {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, notify.ERATELIMIT, "too many sockets waiting to authenticate")
		return
	}
	defer release()
	if !s.conns.Enter() {
		writeError(w, http.StatusServiceUnavailable, notify.EUNAVAILABLE, "server is shutting down")
		return
	}

	// The origin was checked above against ws.allowed_origins, so
	// coder/websocket's own check is turned off. It cannot express our
	// rule: it always admits an Origin whose host equals the request's
	// Host, whatever the scheme, and otherwise matches path.Match globs,
	// by host only unless the pattern has a scheme; our page is served
	// from the API port, a different origin from this listener's. Its
	// refusals are also plain text, not our JSON error.
	hj := &hijackRecorder{ResponseWriter: w}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		// Accept has already answered (426, 400...).
		s.logger.Debug("ws: upgrade failed", "error", err)
		s.conns.Leave()
		return
	}
	ws.SetReadLimit(s.cfg.MaxMessageBytes)
	s.deps.Metrics.SocketOpened() // SocketClosed at the end of serve

	cookie := sessionCookie(r)
	// serve returns once the socket is live; the connection is counted
	// in conns until it has ended (conn.finish), so Close still waits
	// for it.
	c := newConn(s, ws, hj.conn, cookie, release)
	c.serve(s.base)
}

// maxLoggedOrigin bounds how much of a refused Origin header is logged and
// echoed: the header comes from the client.
const maxLoggedOrigin = 200

// refuseOrigin answers an upgrade from a page whose origin is not in
// ws.allowed_origins with 403 before any upgrade, and logs it at WARN
// with the origin and the allowed list. A browser cannot read this answer
// (the page only sees the socket fail), so the log is where the operator
// learns that the page was opened at another address than
// http.public_url.
func (s *Server) refuseOrigin(w http.ResponseWriter, r *http.Request) {
	origin := strings.Join(r.Header.Values("Origin"), ", ")
	if len(origin) > maxLoggedOrigin {
		origin = origin[:maxLoggedOrigin] + "…"
	}
	s.logger.Warn("websocket upgrade refused: origin not allowed",
		"origin", origin, "allowed_origins", s.cfg.AllowedOrigins,
		"hint", "set http.public_url (or ws.allowed_origins) to the address the page is opened at")
	writeError(w, http.StatusForbidden, notify.EFORBIDDEN,
		"origin "+origin+" not allowed; set http.public_url (or ws.allowed_origins) to the address of this page")
}

// sessionCookie returns the session secret the upgrade request carries in
// a cookie, "" when none.
func sessionCookie(r *http.Request) string {
	for _, name := range []string{SecureSessionCookie, SessionCookie} {
		if ck, err := r.Cookie(name); err == nil && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

// originAllowed applies the Origin rule: no Origin header is a non-browser
// client and is allowed; otherwise the header must equal one of
// ws.allowed_origins (already lower-case scheme://host[:port]), compared
// case-insensitively. "null" (sandboxed frames, file: pages) is foreign.
func (s *Server) originAllowed(r *http.Request) bool {
	values := r.Header.Values("Origin")
	if len(values) == 0 {
		return true
	}
	if len(values) > 1 {
		return false
	}
	origin := values[0]
	if strings.EqualFold(origin, "null") {
		return false
	}
	for _, allowed := range s.cfg.AllowedOrigins {
		if strings.EqualFold(origin, allowed) {
			return true
		}
	}
	return false
}

// errorBody is the JSON error shape of the whole API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers a refused upgrade in the API's JSON error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	var body errorBody
	body.Error.Code = code
	body.Error.Message = message
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
