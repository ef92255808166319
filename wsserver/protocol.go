package wsserver

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/coder/websocket"
)

// authRequest is a parsed first message.
type authRequest struct {
	secret  string // a session secret or a token (notify.IsToken)
	afterID int64
	resume  bool // after_id was given: replay what is above it
}

// authMessage is the JSON form of the first message.
type authMessage struct {
	Type    string  `json:"type"`
	Secret  *string `json:"secret"`
	Token   *string `json:"token"`
	AfterID *int64  `json:"after_id"`
}

var errBadAuth = errors.New("wsserver: bad auth message")

// parseAuth reads the first message: a text message starting with '{' is
// {"type":"auth","secret":"...","after_id":N} or
// {"type":"auth","token":"<jwt>","after_id":N} (secret, token and after_id
// optional, not both secret and token; without either the session cookie is
// used), any other text is the bare secret (the seed's protocol). Binary
// messages, other types, both secret and token, and a negative after_id
// fail.
func parseAuth(m message, cookie string) (authRequest, error) {
	if m.typ != websocket.MessageText {
		return authRequest{}, errBadAuth
	}
	if len(m.data) == 0 || m.data[0] != '{' {
		return authRequest{secret: string(m.data)}, nil
	}
	var am authMessage
	if err := json.Unmarshal(m.data, &am); err != nil {
		return authRequest{}, errBadAuth
	}
	if am.Type != "auth" {
		return authRequest{}, errBadAuth
	}
	if am.Secret != nil && am.Token != nil {
		return authRequest{}, errBadAuth
	}
	req := authRequest{secret: cookie}
	if am.Secret != nil && *am.Secret != "" {
		req.secret = *am.Secret
	}
	if am.Token != nil && *am.Token != "" {
		req.secret = *am.Token
	}
	if am.AfterID != nil {
		if *am.AfterID < 0 {
			return authRequest{}, errBadAuth
		}
		req.afterID, req.resume = *am.AfterID, true
	}
	return req, nil
}

// clientMessage is a message after auth: {"type":"ping"} or
// {"type":"refresh","token":"<jwt>"}.
type clientMessage struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// read is the reader goroutine: it reads until the connection fails or is
// closed, hands the first message to the writer, answers pings through it,
// and stops at the first binary or unparseable message (4400) or one over
// ws.max_message_bytes (1009, already sent by coder/websocket). It never
// blocks on a channel, so it always returns once the socket is closed.
func (c *conn) read() {
	first := true
	for {
		// Not the server's context: cancelling a read drops the TCP
		// connection, and the writer closes with a code instead.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				c.readEnd(readResult{code: CloseTooBig, reason: "message too big"})
				return
			}
			c.readEnd(readResult{err: err})
			return
		}
		if first {
			first = false
			c.first <- message{typ: typ, data: data}
			continue
		}
		if typ != websocket.MessageText {
			c.readEnd(readResult{code: CloseBadMessage, reason: "binary messages are not accepted"})
			return
		}
		var m clientMessage
		if err := json.Unmarshal(data, &m); err != nil {
			c.readEnd(readResult{code: CloseBadMessage, reason: "unparseable message"})
			return
		}
		// Unknown types, a second auth included, are ignored so that
		// clients can send newer messages to older servers.
		switch m.Type {
		case "ping":
			c.pongs.Add(1) // the writer answers every ping owed
			c.kick()
		case "refresh":
			if r, ok := c.refresh(m.Token); !ok {
				c.readEnd(r)
				return
			}
		}
	}
}

// readEnd tells the writer why the reader ended.
func (c *conn) readEnd(r readResult) {
	c.readDone <- r
	c.kick()
}
