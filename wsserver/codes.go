package wsserver

import (
	"strconv"

	"github.com/notifyd/notifyd/notify"
)

// Close codes sent on websocket close frames (docs/protocol.md). The 4xxx
// codes are ours: a client tells "logged out" (stop) from "resume later"
// (reconnect) by them.
const (
	CloseNormal       = 1000
	CloseGoingAway    = 1001 // server shutting down: reconnect
	CloseTooBig       = 1009 // a client message over ws.max_message_bytes
	CloseBadMessage   = 4400 // binary or unparseable client message
	CloseUnauthorized = 4401 // bad, expired or revoked secret: do not retry
	CloseTimeout      = 4408 // no auth in time, or no pong in time
	CloseQueueFull    = 4008 // the client read too slowly: resume with after_id
	CloseTooMany      = 4429 // ws.max_connections_per_user reached
)

// closeCode is the one table from the domain's reasons to close codes.
func closeCode(why notify.CloseReason) int {
	switch why {
	case notify.CloseGoingAway:
		return CloseGoingAway
	case notify.CloseUnauthorized:
		return CloseUnauthorized
	case notify.CloseQueueFull:
		return CloseQueueFull
	}
	// CloseNone or a reason added to notify without a code here: a
	// close the client may retry at once, as after a restart.
	return CloseGoingAway
}

// codeLabel is the code label of notifyd_ws_closes_total: a client may
// close with any code from 3000 to 4999, so only the standard codes and
// ours are kept, "other" for the rest and "none" when no close frame came.
func codeLabel(code int) string {
	switch {
	case code <= 0:
		return "none"
	case code >= 1000 && code <= 1015:
	case code == CloseBadMessage, code == CloseUnauthorized, code == CloseTimeout,
		code == CloseQueueFull, code == CloseTooMany:
	default:
		return "other"
	}
	return strconv.Itoa(code)
}
