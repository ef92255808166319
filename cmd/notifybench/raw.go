package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The raw baseline's tunables, the same as notifyd's defaults.
const (
	rawSendQueue    = 256              // frames queued per socket before it is closed with 4008
	rawWriteTimeout = 10 * time.Second // per frame
	rawAuthTimeout  = 10 * time.Second // for the first message
)

// errQueueFull ends a raw socket whose reader fell behind.
var errQueueFull = errors.New("send queue full")

// rawServer is the socket side of both baselines (see baseline): a bare
// coder/websocket server doing the least notifyd must do — authenticate a
// socket to a user, and push a notification serialised once to that user's
// sockets through a bounded queue — with no hub design. Each connection
// costs what the library's idiom costs: the handler goroutine stays as the
// writer, one goroutine reads.
type rawServer struct {
	ln     net.Listener
	srv    *http.Server
	ctx    context.Context // ends every connection on close
	cancel context.CancelFunc

	mu     sync.Mutex // guards the fields below
	closed bool
	users  map[int64]map[*rawConn]struct{}

	conns sync.WaitGroup
}

// rawConn is the publish side of one raw socket.
type rawConn struct {
	send chan []byte
	kill context.CancelCauseFunc
	done <-chan struct{} // the connection ended
}

// startRawServer listens on a loopback port and serves /ws.
func startRawServer() (*rawServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &rawServer{ln: ln, users: map[int64]map[*rawConn]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }() // returns ErrServerClosed on close
	return s, nil
}

// url is the websocket address of the server.
func (s *rawServer) url() string { return "ws://" + s.ln.Addr().String() + "/ws" }

// close stops accepting, ends every connection and waits for them.
func (s *rawServer) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = s.srv.Close() // hijacked websocket connections are not closed by this
	s.cancel()
	s.conns.Wait()
}

// ServeHTTP accepts a socket and runs it until it ends.
func (s *rawServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered the client
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.CloseNow()
		return
	}
	s.conns.Add(1)
	s.mu.Unlock()
	defer s.conns.Done()
	s.serve(c)
}

// serve authenticates, registers, then writes queued frames until the
// socket or the server ends.
func (s *rawServer) serve(c *websocket.Conn) {
	defer c.CloseNow()
	c.SetReadLimit(4096)
	user, err := rawAuth(s.ctx, c)
	if err != nil {
		c.Close(4401, "bad secret")
		return
	}
	ctx, kill := context.WithCancelCause(s.ctx)
	defer kill(nil)
	rc := &rawConn{send: make(chan []byte, rawSendQueue), kill: kill, done: ctx.Done()}
	s.register(user, rc)
	defer s.unregister(user, rc)

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		// Read on a context of its own: cancelling a Read's context closes
		// the connection, which would lose the close frame written below.
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				kill(err)
				return
			}
		}
	}()
	defer func() {
		c.CloseNow() // ends the reader if the writer gave up first
		<-readDone
	}()

	hello := `{"type":"hello","user":{"id":` + strconv.FormatInt(user, 10) + `,"username":"raw-` + strconv.FormatInt(user, 10) + `"},"unread_count":0}`
	if !rawWrite(ctx, c, []byte(hello)) {
		return
	}
	for {
		select {
		case b := <-rc.send:
			if !rawWrite(ctx, c, b) {
				return
			}
		case <-ctx.Done():
			switch cause := context.Cause(ctx); {
			case errors.Is(cause, errQueueFull):
				c.Close(4008, "send queue full")
			case s.ctx.Err() != nil:
				c.Close(websocket.StatusGoingAway, "server closing")
			}
			return // else the reader ended: the peer closed or vanished
		}
	}
}

// rawWrite writes one frame within rawWriteTimeout; false when the socket
// must end (the deferred CloseNow drops it).
func rawWrite(ctx context.Context, c *websocket.Conn, b []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, rawWriteTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b) == nil
}

// rawAuth reads {"type":"auth","secret":"raw-<user id>"} within
// rawAuthTimeout and returns the user id.
func rawAuth(ctx context.Context, c *websocket.Conn) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, rawAuthTimeout)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		return 0, err
	}
	var m struct {
		Type   string `json:"type"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Type != "auth" {
		return 0, errors.New("raw: not an auth message")
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(m.Secret, "raw-"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("raw: bad secret")
	}
	return id, nil
}

func (s *rawServer) register(user int64, rc *rawConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[user] == nil {
		s.users[user] = map[*rawConn]struct{}{}
	}
	s.users[user][rc] = struct{}{}
}

func (s *rawServer) unregister(user int64, rc *rawConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users[user], rc)
	if len(s.users[user]) == 0 {
		delete(s.users, user)
	}
}

// rawNotificationBody is the "notification" object of notifyd's message.
type rawNotificationBody struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	Content   string     `json:"content"`
	Style     string     `json:"style"`
	Read      bool       `json:"read"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// notificationFrame wraps a serialised notification in the "notification"
// message notifyd sends, so every server here pushes frames of the same
// shape and size.
func notificationFrame(body []byte) []byte {
	b := make([]byte, 0, len(body)+64)
	b = append(b, `{"type":"notification","notification":`...)
	b = append(b, body...)
	return append(b, `,"unread_count":0}`...)
}

// push queues one serialised frame to every socket of user without
// blocking, closing a socket whose queue is full, as notifyd does: the
// publisher's HTTP round trip paces the pushes.
func (s *rawServer) push(user int64, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for rc := range s.users[user] {
		select {
		case rc.send <- frame:
		default:
			rc.kill(errQueueFull)
		}
	}
}

// rawUsers returns the users 1..n of the raw baseline, whose secret is
// "raw-<id>".
func rawUsers(n int) []benchUser {
	users := make([]benchUser, n)
	for i := range users {
		id := int64(i + 1)
		users[i] = benchUser{ID: id, Secret: "raw-" + strconv.FormatInt(id, 10)}
	}
	return users
}
