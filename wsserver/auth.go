package wsserver

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// awaitFirst waits ws.auth_timeout for the first client message. The
// timeout closes the socket with 4408 through a close frame; a read
// deadline alone would drop the TCP connection and the client would see
// 1006, unable to tell a slow auth from a network failure.
func (c *conn) awaitFirst(ctx context.Context) (message, closing, bool) {
	t := time.NewTimer(c.cfg.AuthTimeout.D())
	defer t.Stop()
	select {
	case m := <-c.first:
		return m, closing{}, true
	case <-t.C:
		return message{}, serverClose(CloseTimeout, "authentication timeout"), false
	case r := <-c.readDone:
		return message{}, c.readerEnded(r), false
	case <-ctx.Done():
		return message{}, serverClose(CloseGoingAway, "server shutting down"), false
	}
}

// identity is what authenticated a socket.
type identity struct {
	sessionID int64     // 0 for a token
	expiresAt time.Time // when the session or token expires
	// mark is the hub's change clock taken before the session was read
	// (notify.Hub.Mark), for revoked (after Register).
	mark uint64
}

// authenticate parses the first message and resolves its token, secret
// or the session cookie to a user.
func (c *conn) authenticate(ctx context.Context, m message) (authRequest, identity, closing, bool) {
	req, err := parseAuth(m, c.cookie)
	if err != nil {
		return authRequest{}, identity{}, serverClose(CloseBadMessage, "invalid auth message"), false
	}
	id := identity{mark: c.srv.deps.Hub.Mark()}
	var sess notify.Session
	switch {
	case notify.IsToken(req.secret):
		c.user, id.expiresAt, err = c.srv.deps.Accounts.AuthenticateToken(ctx, req.secret)
	case !req.resume && c.srv.deps.Watcher.Local():
		// The hello's position in the same round trip (earlyPosition).
		c.early.mark = id.mark
		c.user, sess, c.early.pos, err = c.srv.deps.Accounts.AuthenticateWithPosition(ctx, req.secret)
		c.early.read = err == nil
	default:
		c.user, sess, err = c.srv.deps.Accounts.Authenticate(ctx, req.secret)
	}
	if sess.ID != 0 {
		id.sessionID, id.expiresAt = sess.ID, sess.ExpiresAt
	}
	if err != nil {
		return authRequest{}, identity{}, c.failure(ctx, "authenticate", err), false
	}
	c.srv.logger.Debug("ws: authenticated", "conn_id", c.id, "user_id", c.user.ID,
		"session_id", id.sessionID, "resume", req.resume) // session 0: a token
	return req, id, closing{}, true
}

// revoked closes a socket whose session may have been revoked between
// its read and Register: that logout found no socket of the session to
// close. The hub's marks tell (notify.Hub.SessionChangedSince); when they
// moved, the session is read again. Call it after Register.
func (c *conn) revoked(ctx context.Context, req authRequest, id identity) (closing, bool) {
	if id.sessionID == 0 || !c.srv.deps.Hub.SessionChangedSince(id.sessionID, id.mark) {
		return closing{}, false
	}
	_, sess, err := c.srv.deps.Accounts.Authenticate(ctx, req.secret)
	switch {
	case notify.ErrorCode(err) == notify.EUNAUTHORIZED || err == nil && sess.ID != id.sessionID:
		return serverClose(CloseUnauthorized, "session revoked"), true
	case err != nil:
		return c.failure(ctx, "authenticate", err), true
	}
	return closing{}, false
}

// register adds the socket to the hub. The per-user limit is checked
// there, under the hub's lock, so concurrent connects cannot overshoot.
func (c *conn) register(sessionID int64) (closing, bool) {
	sub, err := c.srv.deps.Hub.Register(c.user.ID, sessionID)
	switch notify.ErrorCode(err) {
	case "":
		c.sub = sub
		return closing{}, true
	case notify.ERATELIMIT:
		return serverClose(CloseTooMany, "too many connections"), false
	case notify.EUNAVAILABLE:
		return serverClose(CloseGoingAway, "server shutting down"), false
	default:
		c.srv.logger.Error("ws: register", "conn_id", c.id, "user_id", c.user.ID, "error", err)
		return serverClose(closeInternal, "internal error"), false
	}
}

// watch tells the Watcher of the socket, after Register and before the
// hello reads anything: from then on the broker brings every change of the
// user here, so the reads of the hello and the live frames leave no gap.
func (c *conn) watch(ctx context.Context) (closing, bool) {
	release, err := c.srv.deps.Watcher.Watch(ctx, c.user.ID)
	if err != nil {
		return c.failure(ctx, "watch", err), false
	}
	c.release = release
	return closing{}, true
}

// Close codes for failures of the server itself.
const (
	// closeTryAgain (1013, Try Again Later) is sent when the database does
	// not answer while a socket authenticates or greets: the client keeps
	// its session and reconnects with backoff, as after 1001.
	closeTryAgain = 1013
	// closeInternal (1011) is sent for any other unexpected error.
	closeInternal = 1011
)

// failure maps an error of the auth or greeting phase to a close.
func (c *conn) failure(ctx context.Context, op string, err error) closing {
	switch code := notify.ErrorCode(err); {
	case ctx.Err() != nil:
		return serverClose(CloseGoingAway, "server shutting down")
	case code == notify.EUNAUTHORIZED:
		return serverClose(CloseUnauthorized, closeReason(err))
	case code == notify.EUNAVAILABLE:
		c.srv.logger.Warn("ws: database unavailable", "op", op, "conn_id", c.id, "user_id", c.user.ID, "error", err)
		return serverClose(closeTryAgain, "database unavailable")
	default:
		c.srv.logger.Error("ws: "+op, "conn_id", c.id, "user_id", c.user.ID, "error", err)
		return serverClose(closeInternal, "internal error")
	}
}
