package wsserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

func TestPingPong(t *testing.T) {
	e := newEnv(t)
	_, _, secret := e.login(t, "alice")
	c := e.connect(t, secret)

	// Unknown types and a second auth are ignored; the socket stays open
	// and the next ping is answered.
	c.send(t, `{"type":"subscribe","topic":"x"}`)
	c.send(t, authJSON("whatever", 3))
	c.send(t, `{"no":"type"}`)
	c.send(t, `{"type":"ping"}`)
	if f := c.next(t); f.Type != "pong" {
		t.Fatalf("got %+v, want pong", f)
	}

	// A message of exactly ws.max_message_bytes is accepted.
	ping := `{"type":"ping","pad":"`
	ping += strings.Repeat("x", 4096-len(ping)-2) + `"}`
	if len(ping) != 4096 {
		t.Fatalf("test message is %d bytes", len(ping))
	}
	c.send(t, ping)
	if f := c.next(t); f.Type != "pong" {
		t.Fatalf("got %+v, want pong", f)
	}

	// Several pings, several pongs.
	for range 3 {
		c.send(t, `{"type":"ping"}`)
	}
	for range 3 {
		if f := c.next(t); f.Type != "pong" {
			t.Fatalf("got %+v, want pong", f)
		}
	}
}

func TestBadMessageAfterAuth(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		typ  websocket.MessageType
		msg  string
		code int
	}{
		{"binary", websocket.MessageBinary, `{"type":"ping"}`, notify.CloseBadMessage},
		{"not json", websocket.MessageText, "hello there", notify.CloseBadMessage},
		{"json array", websocket.MessageText, `[1,2]`, notify.CloseBadMessage},
		{"type not a string", websocket.MessageText, `{"type":5}`, notify.CloseBadMessage},
		{"oversize", websocket.MessageText, `{"type":"ping","pad":"` + strings.Repeat("x", 5000) + `"}`, notify.CloseTooBig},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, secret := e.login(t, "user"+string(rune('a'+i)))
			c := e.connect(t, secret)
			c.write(t, tt.typ, []byte(tt.msg))
			c.expectClose(t, tt.code)
			eventually(t, "socket unregistered", func() bool { return e.hub.UserCount(u.ID) == 0 })
		})
	}
}

func TestServerPing(t *testing.T) {
	// The http.Server's timeouts, far below the sockets' life here, must
	// not cut a socket (they leave deadlines on hijacked connections).
	t.Run("answered", func(t *testing.T) {
		e := newEnv(t, func(ec *envConfig) {
			ec.ws.PingInterval = config.Duration(40 * time.Millisecond)
			ec.httpTimeout = 100 * time.Millisecond
		})
		u, _, secret := e.login(t, "alice")
		pings := make(chan struct{}, 100)
		ws, _, err := websocket.Dial(context.Background(), e.url, &websocket.DialOptions{
			HTTPClient: e.client,
			OnPingReceived: func(context.Context, []byte) bool {
				select {
				case pings <- struct{}{}:
				default:
				}
				return true
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.CloseNow() })
		c := &client{ws: ws}
		c.send(t, secret)
		if f := c.next(t); f.Type != "hello" {
			t.Fatalf("got %+v, want hello", f)
		}
		// Pings are answered while the client reads; after eight of them
		// (past the http timeouts) the socket still delivers.
		got := make(chan []byte, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			_, data, _ := ws.Read(ctx)
			got <- data
		}()
		for range 8 {
			<-pings
		}
		n := e.notify(t, u.ID, "still here")
		var f frame
		if err := json.Unmarshal(<-got, &f); err != nil || f.Notification == nil || f.Notification.ID != n.ID {
			t.Fatalf("got %+v (%v), want notification %d", f, err, n.ID)
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		e := newEnv(t, func(ec *envConfig) {
			ec.ws.PingInterval = config.Duration(20 * time.Millisecond)
			ec.ws.PongTimeout = config.Duration(50 * time.Millisecond)
			ec.ws.WriteTimeout = config.Duration(200 * time.Millisecond)
		})
		u, _, secret := e.login(t, "alice")
		c := e.connect(t, secret)
		// The client reads nothing, so it answers no ping: the server
		// closes with 4408. The close frame is read afterwards.
		eventually(t, "socket unregistered", func() bool { return e.hub.UserCount(u.ID) == 0 })
		c.expectClose(t, notify.CloseTimeout)
	})
}
