package wsserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

// conn is one websocket connection. The reader goroutine (read) only
// reads, for the whole life of the socket. The handler's goroutine
// authenticates and greets (serve), then returns; from then on a writer
// goroutine runs only while there is something to write (writer.go), so an
// idle socket costs one goroutine. There is never more than one writer.
// The reader hands what it read to the writer through channels and kicks
// that never block it.
type conn struct {
	srv    *Server
	cfg    config.WS
	ws     *websocket.Conn
	tcp    net.Conn // the hijacked connection, to drop a stuck client
	cookie string   // notifyd_session of the upgrade request, "" if none
	id     uint64
	start  time.Time

	// authenticated stops counting the socket as unauthenticated; called
	// once auth is decided, and again (a no-op) when it ends.
	authenticated func()

	first     chan message    // the first message; sent once
	readDone  chan readResult // why the reader ended; sent once
	readEnded bool            // readDone was received (by the writer)
	pongs     atomic.Int64    // client pings not answered yet

	user    notify.User
	early   earlyPosition // read with the session, before Register (hello.go)
	sub     *notify.Subscriber
	release func() // ends the Watcher's count of this socket; nil until watched

	amu  sync.Mutex // guards cred, shared by the reader (refresh) and the timer
	cred credential // what authenticated the socket, and its expiry (expiry.go)

	// The live phase (writer.go). ctx is the server's (Close cancels
	// it): a context per connection would cost memory and end nothing
	// that finish does not.
	ctx      context.Context
	pingNow  atomic.Bool // the ping timer fired
	pinger   *time.Timer // fires pingDue every ws.ping_interval
	stopWake func() bool // stops the kick on ctx's cancellation
	writerFn func()      // c.writer, made once: a kick allocates nothing

	wmu     sync.Mutex
	kicked  bool // there may be work for the writer; guarded by wmu
	writing bool // a writer runs or the connection ended; guarded by wmu
	live    bool // writers may start (goLive ran); guarded by wmu
}

// message is a client message as read off the socket.
type message struct {
	typ  websocket.MessageType
	data []byte
}

// readResult is why the reader stopped: code is a close code the server
// must send (4400, 1009), else err is the read error.
type readResult struct {
	code   int
	reason string
	err    error
}

// closing is how serve ends: with a close frame to send (send), or with a
// connection the peer already closed or that is gone.
type closing struct {
	code   int
	reason string
	send   bool
	by     string // "server", "client" or "lost", for the log
}

func serverClose(code int, reason string) closing {
	return closing{code: code, reason: reason, send: true, by: "server"}
}

func newConn(s *Server, ws *websocket.Conn, tcp net.Conn, cookie string, authenticated func()) *conn {
	c := &conn{
		srv:      s,
		cfg:      s.cfg,
		ws:       ws,
		tcp:      tcp,
		cookie:   cookie,
		id:       s.nextConnID.Add(1),
		start:    time.Now(),
		first:    make(chan message, 1),
		readDone: make(chan readResult, 1),
	}
	c.writerFn = c.writer
	c.authenticated = authenticated
	return c
}

// serve runs auth, registration, hello and replay, then hands the
// connection to the writers (goLive) and returns. A connection that ends
// before that is finished here.
func (c *conn) serve(base context.Context) {
	c.ctx = base
	go c.read()

	if cl, live := c.run(c.ctx); !live {
		c.finish(cl)
		return
	}
	c.goLive()
}

// finish ends the connection: whatever ended it, the socket is closed, the
// reader has returned and the subscriber is unregistered when it returns,
// and the server stops counting the connection.
func (c *conn) finish(cl closing) {
	defer c.srv.conns.Leave()
	c.stopExpiry()
	c.authenticated() // before the close frame: the client may dial again at once
	if c.pinger != nil {
		c.pinger.Stop()
		c.stopWake()
	}
	dropped := false
	if cl.send {
		dropped = c.closeWith(cl.code, cl.reason)
	} else {
		_ = c.ws.CloseNow()
	}
	// The socket is closed: the reader returns.
	c.drop()
	if !c.readEnded {
		// A write that failed may have hidden the peer's close.
		if r := c.readerEnded(<-c.readDone); cl.by == "lost" && r.by == "client" {
			cl = r
		}
	}
	if c.sub != nil {
		c.srv.deps.Hub.Unregister(c.sub)
	}
	if c.release != nil {
		c.release()
	}
	c.srv.logger.Info("ws: connection closed",
		"conn_id", c.id, "user_id", c.user.ID, "status", cl.code, "reason", cl.reason,
		"closed_by", cl.by, "dropped", dropped, "duration", time.Since(c.start))
	c.srv.deps.Metrics.SocketClosed(codeLabel(cl.code), cl.by)
}

// run authenticates and greets. It reports live when the connection is
// ready for live frames, else how it must end.
func (c *conn) run(ctx context.Context) (cl closing, live bool) {
	msg, cl, ok := c.awaitFirst(ctx)
	if !ok {
		return cl, false
	}
	req, id, cl, ok := c.authenticate(ctx, msg)
	c.authenticated()
	if !ok {
		return cl, false
	}
	if cl, ok := c.register(id.sessionID); !ok {
		return cl, false
	}
	if cl, revoked := c.revoked(ctx, req, id); revoked {
		return cl, false
	}
	if cl, ok := c.watch(ctx); !ok {
		return cl, false
	}
	c.startExpiry(id.expiresAt, id.sessionID == 0)
	return c.greet(ctx, req)
}

func (c *conn) subClosed() closing {
	why, text := c.sub.CloseReason()
	return serverClose(closeCode(why), text)
}

func lost() closing { return closing{by: "lost"} }

// readerEnded turns the end of the reader into the end of the connection.
func (c *conn) readerEnded(r readResult) closing {
	c.readEnded = true
	if r.code != 0 {
		return serverClose(r.code, r.reason)
	}
	if code := websocket.CloseStatus(r.err); code != -1 {
		// The peer closed; coder/websocket has answered its close frame.
		return closing{code: int(code), by: "client"}
	}
	return lost()
}

// write sends one text message within ws.write_timeout. The context is not
// the server's: cancelling a write midway makes coder/websocket drop the
// TCP connection, and at shutdown we want the 1001 close frame instead.
//
// The timeout is a write deadline on the TCP connection, cleared after
// the write, rather than a context: coder/websocket turns a context with
// a deadline into a context.AfterFunc, and with context.WithTimeout that
// cost eleven allocations and two timers per frame and socket, the most
// of any step of a delivery. A write past the deadline fails with a
// timeout, as one whose context expired did, and the writer then drops
// the connection (lost). A connection without its net.Conn (never, once
// Accept has hijacked it) falls back to the context.
func (c *conn) write(p []byte) error {
	if c.tcp == nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout.D())
		defer cancel()
		return c.ws.Write(ctx, websocket.MessageText, p)
	}
	if err := c.tcp.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout.D())); err != nil {
		return err
	}
	err := c.ws.Write(context.Background(), websocket.MessageText, p)
	// Cleared at once, so that no later write (a ping, a close frame, a
	// pong coder/websocket sends from the reader) inherits this deadline.
	if derr := c.tcp.SetWriteDeadline(time.Time{}); err == nil {
		err = derr
	}
	return err
}

// closeWith closes the socket with code. coder/websocket's Close gives the
// close frame and the peer's answer fixed 5 s timeouts each, and CloseNow
// does nothing once Close has begun; so a client that has not taken the
// close handshake within ws.write_timeout has its TCP connection dropped
// under Close, which then returns at once. This runs in the connection's
// goroutine, never in a publisher's. It reports whether the connection had
// to be dropped.
func (c *conn) closeWith(code int, reason string) (dropped bool) {
	t := time.AfterFunc(c.cfg.WriteTimeout.D(), c.drop)
	err := c.ws.Close(websocket.StatusCode(code), reason)
	dropped = !t.Stop()
	if err != nil {
		c.srv.logger.Debug("ws: close handshake", "conn_id", c.id, "status", code, "error", err)
	}
	return dropped
}

// drop closes the TCP connection without a close frame.
func (c *conn) drop() {
	if c.tcp != nil {
		_ = c.tcp.Close()
		return
	}
	_ = c.ws.CloseNow()
}

// hijackRecorder keeps the net.Conn that websocket.Accept hijacks, so that
// closeWith can drop a stuck client (see there).
type hijackRecorder struct {
	http.ResponseWriter
	conn net.Conn
}

// Buffer sizes of a socket. coder/websocket keeps the reader and writer
// that Hijack returns for the socket's whole life, and net/http's are 4 KiB
// each: most of an idle socket's memory. Client messages are small (auth,
// ping), so a small read buffer costs nothing; a frame larger than the
// write buffer (a notification with a long content) goes out in two
// writes instead of one.
const (
	readBufferSize  = 512
	writeBufferSize = 1 << 10
)

// Hijack hijacks the underlying ResponseWriter and records the connection.
// It also clears any deadline left by the http.Server's ReadTimeout and
// WriteTimeout: http.Hijacker leaves that to the caller (net/http clears
// them today, other writers need not) and coder/websocket never does, yet
// one would cut every socket a fixed time after its upgrade. From here on
// each read and write is bounded by its own context.
//
// It swaps net/http's buffers for smaller ones (readBufferSize,
// writeBufferSize), keeping a buffer that holds data already: bytes a
// client sent right after the upgrade request, which coder/websocket
// takes over from the reader it is given.
func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		_ = c.Close()
		return nil, nil, fmt.Errorf("wsserver: clear deadlines: %w", err)
	}
	h.conn = c
	rd, wr := brw.Reader, brw.Writer
	if rd.Buffered() == 0 {
		rd = bufio.NewReaderSize(c, readBufferSize)
	}
	if wr.Buffered() == 0 {
		wr = bufio.NewWriterSize(c, writeBufferSize)
	}
	return c, bufio.NewReadWriter(rd, wr), nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }
