package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWSListenerOwnTimeouts: the websocket listener takes its timeouts
// from the ws section, not the API's. With http.idle_timeout at an hour
// and ws.handshake_timeout at half a second, a connection to the
// websocket port answered without an upgrade (404) and then left idle is
// closed by the server; it used to wait for http.idle_timeout. The API
// port keeps its own idle timeout: its connection is still open.
func TestWSListenerOwnTimeouts(t *testing.T) {
	env := testEnv(t)
	env["NOTIFYD_HTTP_IDLE_TIMEOUT"] = "1h"
	env["NOTIFYD_HTTP_READ_TIMEOUT"] = "1h"
	env["NOTIFYD_WS_HANDSHAKE_TIMEOUT"] = "500ms"
	in := start(t, env)
	wsAddr := strings.TrimSuffix(strings.TrimPrefix(in.WSURL, "ws://"), "/ws")
	httpAddr := strings.TrimPrefix(in.HTTPURL, "http://")

	if err := idleAfterAnswer(t, wsAddr, 30*time.Second); !errors.Is(err, io.EOF) {
		t.Fatalf("websocket port, idle after a 404: read = %v, want the server to close (EOF) within 30s", err)
	}
	var ne net.Error
	if err := idleAfterAnswer(t, httpAddr, 2*time.Second); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("API port, idle after a 404: read = %v, want the connection still open (a read timeout)", err)
	}
}

// idleAfterAnswer sends one request that gets a 404 on a new connection
// to addr, then waits up to wait for anything more and returns the read's
// error: io.EOF when the server closed the connection.
func idleAfterAnswer(tb testing.TB, addr string, wait time.Duration) error {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /no-such-path HTTP/1.1\r\nHost: notifyd\r\n\r\n"); err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		tb.Fatalf("%s: %v", addr, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		tb.Fatalf("%s: status %d, want 404", addr, resp.StatusCode)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	_, err = br.ReadByte()
	return err
}
