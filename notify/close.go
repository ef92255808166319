package notify

// CloseReason is why the domain ends a socket. The websocket server owns
// the wire and picks the close code of each (wsserver/codes.go), so a
// client still tells "logged out" (stop) from "resume later" (reconnect).
// The reasons a socket ends for that only the server sees (a bad message,
// an auth timeout, a missed pong) are its own and have no value here.
type CloseReason uint8

// The reasons the domain closes a socket for.
const (
	// CloseNone: the socket was not closed.
	CloseNone CloseReason = iota
	// CloseGoingAway: the server is shutting down; the client reconnects.
	CloseGoingAway
	// CloseUnauthorized: the session was revoked or the credential
	// expired; the client must not retry with it.
	CloseUnauthorized
	// CloseQueueFull: the client read too slowly (or missed too much);
	// it resumes with after_id and loses nothing.
	CloseQueueFull
)

// String names the reason, for logs and test failures.
func (r CloseReason) String() string {
	switch r {
	case CloseNone:
		return "none"
	case CloseGoingAway:
		return "going away"
	case CloseUnauthorized:
		return "unauthorized"
	case CloseQueueFull:
		return "queue full"
	}
	return "unknown"
}
