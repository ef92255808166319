package wsserver

import (
	"io"
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
	c := benchConn(b)
	frame := []byte(`{"type":"notification","notification":{"id":123456,"title":"bench","content":"bench t=1764985000000000000 seq=12345","style":"info","url":null,"data":null,"read":false,"created_at":"2026-12-06T02:00:00.123456Z","read_at":null},"unread_count":3}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.write(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// benchConn is the server side of a socket as serveWS makes it. Its
// client is a bare TCP connection that upgrades by hand and then drops
// every byte, so that only the server's allocations are counted.
func benchConn(b *testing.B) *conn {
	b.Helper()
	accepted := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &hijackRecorder{ResponseWriter: w}
		ws, err := websocket.Accept(hj, r, nil)
		if err != nil {
			b.Errorf("accept: %v", err)
			return
		}
		accepted <- &conn{cfg: config.Default().WS, ws: ws, tcp: hj.conn}
	}))
	b.Cleanup(srv.Close)
	client, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	upgrade := "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(client, upgrade); err != nil {
		b.Fatalf("upgrade: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, client) // the 101 answer, then every frame
	}()
	c := <-accepted
	b.Cleanup(func() {
		_ = client.Close()
		_ = c.ws.CloseNow()
		<-done
	})
	return c
}
