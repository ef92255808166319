package wsserver

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
)

// BenchmarkWrite is one frame written by the connection's writer to a
// real socket over loopback, read by a client that keeps up: the cost per
// frame and socket, ws.write_timeout included.
//
//	go test -run '^$' -bench BenchmarkWrite -benchmem ./wsserver/
func BenchmarkWrite(b *testing.B) {
	c, client := socketPair(b, config.Default().WS)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, client) // every frame, unparsed
	}()
	b.Cleanup(func() { _ = client.Close(); <-done })
	frame := []byte(`{"type":"notification","notification":{"id":123456,"title":"bench","content":"bench t=1764985000000000000 seq=12345","style":"info","url":null,"data":null,"read":false,"created_at":"2026-12-06T02:00:00.123456Z","read_at":null},"unread_count":3}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.write(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// socketPair is the server side of a socket as serveWS makes it (the
// hijacked net.Conn recorded) and the client's end as a bare TCP
// connection, upgraded by hand, that the caller reads raw: only the server
// side's allocations count.
func socketPair(tb testing.TB, cfg config.WS) (*conn, net.Conn) {
	tb.Helper()
	srv, accepted := acceptingServer(tb, cfg)
	client, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { _ = client.Close() })
	upgrade := "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(client, upgrade); err != nil {
		tb.Fatalf("upgrade: %v", err)
	}
	return acceptedConn(tb, accepted), client
}

// acceptingServer upgrades every request as serveWS does and hands over
// the server side of the socket, closed at the end of the test.
func acceptingServer(tb testing.TB, cfg config.WS) (*httptest.Server, <-chan *conn) {
	tb.Helper()
	accepted := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &hijackRecorder{ResponseWriter: w}
		ws, err := websocket.Accept(hj, r, nil)
		if err != nil {
			tb.Errorf("accept: %v", err)
			close(accepted)
			return
		}
		accepted <- &conn{cfg: cfg, ws: ws, tcp: hj.conn, srv: &Server{logger: slog.New(slog.DiscardHandler)}}
	}))
	tb.Cleanup(srv.Close)
	return srv, accepted
}

func acceptedConn(tb testing.TB, accepted <-chan *conn) *conn {
	tb.Helper()
	c, ok := <-accepted
	if !ok {
		tb.FailNow()
	}
	tb.Cleanup(func() { _ = c.ws.CloseNow() })
	return c
}
