package wsserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
)

func TestPingPong(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
	c := e.connect(t, secret)

	// Unknown types and a second auth are ignored; the socket stays open
	// and the next ping is answered.
	c.Send(t, `{"type":"subscribe","topic":"x"}`)
	c.Send(t, testkit.SecretAuth("whatever", 3))
	c.Send(t, `{"no":"type"}`)
	c.Send(t, `{"type":"ping"}`)
	if f := c.Next(t); f.Type != "pong" {
		t.Fatalf("got %+v, want pong", f)
	}

	// A message of exactly ws.max_message_bytes is accepted.
	ping := `{"type":"ping","pad":"`
	ping += strings.Repeat("x", 4096-len(ping)-2) + `"}`
	if len(ping) != 4096 {
		t.Fatalf("test message is %d bytes", len(ping))
	}
	c.Send(t, ping)
	if f := c.Next(t); f.Type != "pong" {
		t.Fatalf("got %+v, want pong", f)
	}

	// Several pings, several pongs.
	for range 3 {
		c.Send(t, `{"type":"ping"}`)
	}
	for range 3 {
		if f := c.Next(t); f.Type != "pong" {
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
		{"binary", websocket.MessageBinary, `{"type":"ping"}`, CloseBadMessage},
		{"not json", websocket.MessageText, "hello there", CloseBadMessage},
		{"json array", websocket.MessageText, `[1,2]`, CloseBadMessage},
		{"type not a string", websocket.MessageText, `{"type":5}`, CloseBadMessage},
		{"oversize", websocket.MessageText, `{"type":"ping","pad":"` + strings.Repeat("x", 5000) + `"}`, CloseTooBig},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, secret := e.Session(t, "user"+string(rune('a'+i)))
			c := e.connect(t, secret)
			c.Write(t, tt.typ, []byte(tt.msg))
			c.ExpectClose(t, tt.code)
			testkit.Eventually(t, "socket unregistered", func() bool { return e.Hub.UserCount(u.ID) == 0 })
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
		u, _, secret := e.Session(t, "alice")
		pings := make(chan struct{}, 100)
		c := testkit.Dial(t, e.WSURL, &websocket.DialOptions{
			HTTPClient: e.Client,
			OnPingReceived: func(context.Context, []byte) bool {
				select {
				case pings <- struct{}{}:
				default:
				}
				return true
			},
		})
		c.Send(t, secret)
		if f := c.Next(t); f.Type != "hello" {
			t.Fatalf("got %+v, want hello", f)
		}
		// Pings are answered while the client reads; after eight of them
		// (past the http timeouts) the socket still delivers.
		got := make(chan []byte, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
			defer cancel()
			_, data, _ := c.Conn().Read(ctx)
			got <- data
		}()
		for range 8 {
			<-pings
		}
		n := e.Notify(t, u.ID, "still here")
		var f testkit.Frame
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
		u, _, secret := e.Session(t, "alice")
		c := e.connect(t, secret)
		// The client reads nothing, so it answers no ping: the server
		// closes with 4408. The close frame is read afterwards.
		testkit.Eventually(t, "socket unregistered", func() bool { return e.Hub.UserCount(u.ID) == 0 })
		c.ExpectClose(t, CloseTimeout)
	})
}
