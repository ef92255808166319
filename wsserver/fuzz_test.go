package wsserver

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/coder/websocket"
)

// FuzzFirstMessage fuzzes parseAuth, the parser of a socket's first
// message. Its documented outcomes are:
//   - a binary message: errBadAuth (the socket is closed with 4400);
//   - a text message not starting with '{': the whole text is the bare
//     secret, with no after_id (the seed's protocol);
//   - a text message starting with '{': errBadAuth unless it is a JSON
//     object of type "auth"; then the secret is its "secret" (the cookie
//     when that is absent or empty), and after_id, when given, is a
//     non-negative integer that asks for a replay.
//
// The seed corpus is in testdata/fuzz/FuzzFirstMessage. CI runs
//
//	go test -run='^$' -fuzz='^FuzzFirstMessage$' -fuzztime=30s ./wsserver/
func FuzzFirstMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, binary bool, data []byte, cookie string) {
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		req, err := parseAuth(message{typ: typ, data: data}, cookie)
		if err != nil && !errors.Is(err, errBadAuth) {
			t.Fatalf("error %v is not errBadAuth", err)
		}
		switch {
		case binary:
			if err == nil {
				t.Fatalf("binary message accepted: %+v", req)
			}
		case len(data) == 0 || data[0] != '{':
			if err != nil {
				t.Fatalf("bare secret refused: %v", err)
			}
			if req != (authRequest{secret: string(data)}) {
				t.Fatalf("bare secret %q parsed as %+v", data, req)
			}
		case err == nil:
			if !json.Valid(data) {
				t.Fatalf("invalid JSON %q accepted as %+v", data, req)
			}
			if req.afterID < 0 || (!req.resume && req.afterID != 0) {
				t.Fatalf("%q: after_id %d with resume %v", data, req.afterID, req.resume)
			}
			if req.secret == "" && cookie != "" {
				t.Fatalf("%q: no secret although the cookie is %q", data, cookie)
			}
			// The canonical form of what was understood means the same.
			canon := map[string]any{"type": "auth", "secret": req.secret}
			if req.resume {
				canon["after_id"] = req.afterID
			}
			b, _ := json.Marshal(canon)
			again, err := parseAuth(message{typ: websocket.MessageText, data: b}, cookie)
			// Marshal turns invalid UTF-8 into U+FFFD: the secret must
			// survive as JSON would carry it.
			var secret string
			sb, _ := json.Marshal(req.secret)
			_ = json.Unmarshal(sb, &secret)
			if err != nil || again.afterID != req.afterID || again.resume != req.resume || again.secret != secret {
				t.Fatalf("%q parsed as %+v, its canonical form %s as %+v (%v)", data, req, b, again, err)
			}
		}
	})
}
