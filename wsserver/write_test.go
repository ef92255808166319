package wsserver

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
)

// A write bounds itself with a deadline on the TCP connection (conn.write).
// A client that stops reading makes a write fail once ws.write_timeout has
// passed; a write that succeeded leaves no deadline behind, so a close
// frame sent long after it still goes out.
func TestWriteDeadline(t *testing.T) {
	cfg := config.Default().WS
	cfg.WriteTimeout = config.Duration(100 * time.Millisecond)

	t.Run("a client that stops reading fails the write", func(t *testing.T) {
		c, _ := socketPair(t, cfg) // the client never reads
		big := bytes.Repeat([]byte("x"), 64<<10)
		var err error
		for err == nil {
			// The kernel buffers some frames; a write then blocks until
			// the deadline.
			err = c.write(big)
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write error %v, want a timeout", err)
		}
	})

	t.Run("a close long after a write is sent", func(t *testing.T) {
		c, client := dialPair(t, cfg)
		if err := c.write([]byte(`{"type":"pong"}`)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, got, err := client.Read(ctx); err != nil || string(got) != `{"type":"pong"}` {
			t.Fatalf("read %q, %v", got, err)
		}
		// Past the write's deadline, had it stayed.
		time.Sleep(3 * cfg.WriteTimeout.D())
		closed := make(chan bool, 1)
		go func() { closed <- c.closeWith(CloseUnauthorized, "session revoked") }()
		_, _, err := client.Read(ctx)
		if code := websocket.CloseStatus(err); code != CloseUnauthorized {
			t.Fatalf("client read %v, want close %d", err, CloseUnauthorized)
		}
		if dropped := <-closed; dropped {
			t.Fatal("the connection was dropped instead of closed")
		}
	})
}

// dialPair is socketPair with a websocket client at the other end.
func dialPair(t *testing.T, cfg config.WS) (*conn, *websocket.Conn) {
	t.Helper()
	srv, accepted := acceptingServer(t, cfg)
	client, _, err := websocket.Dial(context.Background(), "ws"+srv.URL[len("http"):], nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = client.CloseNow() })
	return acceptedConn(t, accepted), client
}
