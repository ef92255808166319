package wsserver

import (
	"time"

	"github.com/notifyd/notifyd/notify"
)

// The lifetime of a socket's credential. A socket authenticated by a
// token is closed with 4401 "token expired" when the token expires, unless
// the client sent a refresh with a newer token for the same user first; a
// socket authenticated by a session secret is closed with 4401 "session
// expired" when its session expires (the sweeper deletes it then, and a
// logout closes it at once through the hub). One timer per socket, no
// goroutine: an idle socket stays small.

// Close reasons of an expired credential.
const (
	reasonTokenExpired   = "token expired"
	reasonSessionExpired = "session expired"
)

// credential is the expiry of what authenticated the socket; guarded by
// conn.amu. It is kept small: every idle socket carries one.
type credential struct {
	timer *time.Timer // nil until the socket is registered
	token bool        // a token (else a session secret) rules the expiry
	ended bool        // the connection ended: the timer stays stopped
}

// startExpiry arms the socket's timer once it is registered: at expiresAt
// the subscriber is closed with 4401. c.user is set before, and read by
// the reader only after it saw the timer under amu.
func (c *conn) startExpiry(expiresAt time.Time, token bool) {
	c.amu.Lock()
	defer c.amu.Unlock()
	c.cred.token = token
	c.cred.timer = time.AfterFunc(time.Until(expiresAt), c.expired)
}

// expired is the timer's function.
func (c *conn) expired() {
	c.amu.Lock()
	reason := reasonSessionExpired
	if c.cred.token {
		reason = reasonTokenExpired
	}
	c.amu.Unlock()
	c.sub.Close(notify.CloseUnauthorized, reason)
}

// stopExpiry stops the timer when the connection ends.
func (c *conn) stopExpiry() {
	c.amu.Lock()
	defer c.amu.Unlock()
	c.cred.ended = true
	if c.cred.timer != nil {
		c.cred.timer.Stop()
	}
}

// refresh handles {"type":"refresh","token":"..."} in the reader: a valid
// token for the socket's user moves the expiry to the new token's; an
// invalid one, or one for another user, ends the socket with 4401. A
// refresh that arrives before the socket is registered (before hello) is
// ignored: the token of the auth message still rules, and the client
// refreshes again or reconnects after "token expired". Verifying may wait
// on the JWKS, within the verifier's bound (a couple of seconds).
func (c *conn) refresh(token string) (readResult, bool) {
	c.amu.Lock()
	ready := c.cred.timer != nil && !c.cred.ended
	c.amu.Unlock()
	if !ready {
		return readResult{}, true
	}
	claims, err := c.srv.deps.Accounts.VerifyToken(c.ctx, token)
	if err != nil {
		return readResult{code: CloseUnauthorized, reason: closeReason(err)}, false
	}
	c.amu.Lock()
	defer c.amu.Unlock()
	if claims.Subject != c.user.ExternalID { // "" for a self-signup account
		return readResult{code: CloseUnauthorized, reason: "refresh for another user"}, false
	}
	if c.cred.ended {
		return readResult{}, true
	}
	c.cred.token = true
	c.cred.timer.Reset(time.Until(claims.ExpiresAt))
	c.srv.logger.Debug("ws: token refreshed", "conn_id", c.id, "user_id", c.user.ID)
	return readResult{}, true
}

// closeReason is the close reason of an authentication failure: the
// error's message, which names the cause ("token expired"), when it is one
// of ours and fits a close frame (123 bytes).
func closeReason(err error) string {
	if msg := notify.ErrorMessage(err); notify.ErrorCode(err) == notify.EUNAUTHORIZED && len(msg) <= 123 {
		return msg
	}
	return "unauthorized"
}
