package testkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Timeout bounds each read, write and wait of a test, so a missing frame
// fails the test instead of hanging it. It is not an assertion on speed.
const Timeout = 30 * time.Second

// readLimit is the largest message a test socket accepts: a full replay
// page of long notifications exceeds coder/websocket's 32 KiB default.
const readLimit = 1 << 20

// Socket is a test's end of a notifyd websocket.
type Socket struct {
	conn *websocket.Conn
}

// DialRaw opens a websocket to url and returns the upgrade's answer, for
// tests of refused upgrades. The caller closes a socket it gets.
func DialRaw(ctx context.Context, url string, opts *websocket.DialOptions) (*Socket, *http.Response, error) {
	conn, res, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, res, err
	}
	conn.SetReadLimit(readLimit)
	return &Socket{conn: conn}, res, nil
}

// Dial opens a websocket to url, failing the test if the upgrade is
// refused; it is closed when the test ends.
func Dial(tb testing.TB, url string, opts *websocket.DialOptions) *Socket {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	s, _, err := DialRaw(ctx, url, opts)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	tb.Cleanup(s.CloseNow)
	return s
}

// Connect dials url, sends the auth message auth (SecretAuth, TokenAuth)
// and fails the test unless the server answers hello.
func Connect(tb testing.TB, url, auth string, opts *websocket.DialOptions) *Socket {
	tb.Helper()
	s := Dial(tb, url, opts)
	s.Send(tb, auth)
	if f := s.Next(tb); f.Type != "hello" {
		tb.Fatalf("first frame = %q, want hello", f.Type)
	}
	return s
}

// Open is Connect without a testing.TB, for goroutines: ctx bounds the
// dial and the hello. The caller closes the socket.
func Open(ctx context.Context, url, auth string, opts *websocket.DialOptions) (*Socket, error) {
	s, _, err := DialRaw(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if err := s.conn.Write(ctx, websocket.MessageText, []byte(auth)); err != nil {
		s.CloseNow()
		return nil, fmt.Errorf("auth: %w", err)
	}
	f, err := s.ReadCtx(ctx)
	if err != nil {
		s.CloseNow()
		return nil, fmt.Errorf("hello: %w", err)
	}
	if f.Type != "hello" {
		s.CloseNow()
		return nil, fmt.Errorf("first message %q, want hello", f.Type)
	}
	return s, nil
}

// Conn is the underlying connection, for what the suites do at the
// protocol level (binary frames, pings, odd close codes).
func (s *Socket) Conn() *websocket.Conn { return s.conn }

// Close closes the socket politely (1000).
func (s *Socket) Close() { _ = s.conn.Close(websocket.StatusNormalClosure, "") }

// CloseNow drops the connection without a close handshake.
func (s *Socket) CloseNow() { _ = s.conn.CloseNow() }

// Send writes a text message.
func (s *Socket) Send(tb testing.TB, msg string) {
	tb.Helper()
	s.Write(tb, websocket.MessageText, []byte(msg))
}

// Write writes a message of any type.
func (s *Socket) Write(tb testing.TB, typ websocket.MessageType, p []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := s.conn.Write(ctx, typ, p); err != nil {
		tb.Fatalf("write %.80q: %v", p, err)
	}
}

// ReadCtx returns the next message or the error that ended the socket.
// coder/websocket closes the connection when ctx ends during a read, so
// ctx bounds the socket, not one read.
func (s *Socket) ReadCtx(ctx context.Context) (Frame, error) {
	typ, data, err := s.conn.Read(ctx)
	if err != nil {
		return Frame{}, err
	}
	if typ != websocket.MessageText {
		return Frame{}, fmt.Errorf("server sent a %v message", typ)
	}
	return decodeFrame(data)
}

// Read returns the next message, or the error that ended the socket
// (within Timeout). A message that is not a JSON text fails the test.
func (s *Socket) Read(tb testing.TB) (Frame, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	typ, data, err := s.conn.Read(ctx)
	if err != nil {
		return Frame{}, err
	}
	if typ != websocket.MessageText {
		tb.Fatalf("server sent message type %v", typ)
	}
	f, err := decodeFrame(data)
	if err != nil {
		tb.Fatal(err)
	}
	return f, nil
}

// Next returns the next message and fails the test if there is none.
func (s *Socket) Next(tb testing.TB) Frame {
	tb.Helper()
	f, err := s.Read(tb)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return f
}

// NextOfType skips messages of other types (task progress events, pongs)
// and returns the next one of type typ.
func (s *Socket) NextOfType(tb testing.TB, typ string) Frame {
	tb.Helper()
	for {
		if f := s.Next(tb); f.Type == typ {
			return f
		}
	}
}

// NextNotification reads a message and fails unless it is a notification.
func (s *Socket) NextNotification(tb testing.TB) Frame {
	tb.Helper()
	f := s.Next(tb)
	if f.Type != "notification" || f.Notification == nil {
		tb.Fatalf("got %s, want a notification", f.Raw)
	}
	return f
}

// ExpectClose asserts that the next read ends the socket with code.
func (s *Socket) ExpectClose(tb testing.TB, code int) {
	tb.Helper()
	f, err := s.Read(tb)
	if err == nil {
		tb.Fatalf("got a %q message, want close %d", f.Type, code)
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusCode(code) {
		tb.Fatalf("close status = %d (%v), want %d", got, err, code)
	}
}

// ExpectCloseReason asserts that the socket ends with code and reason,
// skipping pongs.
func (s *Socket) ExpectCloseReason(tb testing.TB, code int, reason string) {
	tb.Helper()
	for {
		f, err := s.Read(tb)
		if err == nil {
			if f.Type == "pong" {
				continue
			}
			tb.Fatalf("got a %q message, want close %d %q", f.Type, code, reason)
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || int(ce.Code) != code || ce.Reason != reason {
			tb.Fatalf("socket ended with %v, want close %d %q", err, code, reason)
		}
		return
	}
}

// Wrap makes a Socket of a connection a test opened itself.
func Wrap(conn *websocket.Conn) *Socket { return &Socket{conn: conn} }
