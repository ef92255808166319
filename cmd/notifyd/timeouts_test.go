package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/testkit"
)

// TestWriteTimeoutDropsNonReader: a client that pipelines requests and
// never reads used to keep its connection, and the kernel buffers behind
// it, past every timeout. With http.write_timeout the server gives up on
// the blocked write and closes the connection. The websocket listener has
// no such timeout: a socket open all along still gets its notification.
func TestWriteTimeoutDropsNonReader(t *testing.T) {
	env := testEnv(t)
	env["NOTIFYD_HTTP_WRITE_TIMEOUT"] = "1s"
	env["NOTIFYD_LOG_LEVEL"] = "info" // not a debug line per pipelined request
	in := start(t, env)
	// Created through the publisher API: a sign-up hashes a password,
	// which on a loaded machine can outlast the 1 s write timeout.
	_, secret := in.external(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sock, err := testkit.Open(ctx, in.WSURL, testkit.SecretAuth(secret, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.CloseNow()

	if !droppedWithoutReading(t, strings.TrimPrefix(in.HTTPURL, "http://"), 30*time.Second) {
		t.Fatal("the server kept, for 30 s, a connection that never reads (http.write_timeout is 1s)")
	}

	// The socket outlived the write timeout, idle, and still delivers.
	if code := in.api(t, "POST", "/api/tasks", secret, map[string]any{"name": "after", "duration_ms": 0}, nil); code != http.StatusAccepted {
		t.Fatalf("start task: status %d", code)
	}
	for {
		m, err := sock.ReadCtx(ctx)
		if err != nil {
			t.Fatalf("socket after the write timeout: %v", err)
		}
		if m.Type == "notification" {
			return
		}
	}
}

// droppedWithoutReading pipelines GET requests on one connection with a
// tiny receive buffer and never reads, until a write fails with anything
// but a timeout (the server closed the connection) or limit has passed.
func droppedWithoutReading(tb testing.TB, addr string, limit time.Duration) bool {
	tb.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	batch := []byte(strings.Repeat("GET /app.js HTTP/1.1\r\nHost: notifyd\r\n\r\n", 100))
	off := 0
	for end := time.Now().Add(limit); time.Now().Before(end); {
		conn.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		// Resume a partly written batch where it stopped: a torn request
		// would make the server close for a bad request instead.
		n, err := conn.Write(batch[off:])
		off = (off + n) % len(batch)
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			return true
		}
	}
	return false
}

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
