package wsserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

// conn is one websocket connection. Two goroutines serve it: the handler's
// goroutine, which authenticates, greets and then is the only writer
// (serve), and the reader (read), which only reads. The reader hands what
// it read to the writer through channels that never block it.
type conn struct {
	srv    *Server
	cfg    config.WS
	ws     *websocket.Conn
	tcp    net.Conn // the hijacked connection, to drop a stuck client
	cookie string   // notifyd_session of the upgrade request, "" if none
	id     uint64
	start  time.Time

	first     chan message    // the first message; sent once
	readDone  chan readResult // why the reader ended; sent once
	readEnded bool            // readDone was received (by the writer)
	pongs     atomic.Int64    // client pings not answered yet
	pongReady chan struct{}   // a pong is owed; capacity 1

	user notify.User
	sub  *notify.Subscriber
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

func newConn(s *Server, ws *websocket.Conn, tcp net.Conn, cookie string) *conn {
	return &conn{
		srv:       s,
		cfg:       s.cfg,
		ws:        ws,
		tcp:       tcp,
		cookie:    cookie,
		id:        s.nextConnID.Add(1),
		start:     time.Now(),
		first:     make(chan message, 1),
		readDone:  make(chan readResult, 1),
		pongReady: make(chan struct{}, 1),
	}
}

// serve runs the connection to its end: auth, registration, hello and
// replay, then the write loop. Whatever ends it, the socket is closed, the
// reader has returned and the subscriber is unregistered when it returns.
func (c *conn) serve(base context.Context) {
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	go c.read()

	cl := c.run(ctx)
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
	c.srv.logger.Info("ws: connection closed",
		"conn_id", c.id, "user_id", c.user.ID, "status", cl.code, "reason", cl.reason,
		"closed_by", cl.by, "dropped", dropped, "duration", time.Since(c.start))
}

// run authenticates and then writes until the connection must end.
func (c *conn) run(ctx context.Context) closing {
	msg, cl, ok := c.awaitFirst(ctx)
	if !ok {
		return cl
	}
	req, sess, cl, ok := c.authenticate(ctx, msg)
	if !ok {
		return cl
	}
	if cl, ok := c.register(sess.ID); !ok {
		return cl
	}
	if cl, ok := c.greet(ctx, req); !ok {
		return cl
	}
	return c.loop(ctx)
}

// loop is the single writer: queued frames, pongs and pings, until the hub
// closes the subscriber, the reader ends or the server closes.
func (c *conn) loop(ctx context.Context) closing {
	ping := time.NewTicker(c.cfg.PingInterval.D())
	defer ping.Stop()
	for {
		// A closed Done wins over queued frames, so a socket told to
		// close (logout, full queue, shutdown) does not write on.
		select {
		case <-c.sub.Done():
			return c.subClosed()
		default:
		}
		select {
		case <-c.sub.Done():
			return c.subClosed()
		case f := <-c.sub.Queue():
			if err := c.write(f.Data); err != nil {
				return lost()
			}
		case <-c.pongReady:
			for n := c.pongs.Swap(0); n > 0; n-- {
				if err := c.write(notify.PongFrame()); err != nil {
					return lost()
				}
			}
		case <-ping.C:
			// The writer waits for the pong (a round trip, normally):
			// a ping runs alone, never beside another write of ours. A
			// client too slow to answer may fill its queue meanwhile,
			// and resumes after 4008 like any slow reader.
			pctx, cancel := context.WithTimeout(ctx, c.cfg.PongTimeout.D())
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return serverClose(notify.CloseGoingAway, "server shutting down")
				}
				return serverClose(notify.CloseTimeout, "pong timeout")
			}
		case r := <-c.readDone:
			return c.readerEnded(r)
		case <-ctx.Done():
			return serverClose(notify.CloseGoingAway, "server shutting down")
		}
	}
}

func (c *conn) subClosed() closing {
	code, reason := c.sub.CloseCode()
	return serverClose(code, reason)
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
func (c *conn) write(p []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout.D())
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, p)
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

// Hijack hijacks the underlying ResponseWriter and records the connection.
// It also clears any deadline left by the http.Server's ReadTimeout and
// WriteTimeout: http.Hijacker leaves that to the caller (net/http clears
// them today, other writers need not) and coder/websocket never does, yet
// one would cut every socket a fixed time after its upgrade. From here on
// each read and write is bounded by its own context.
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
	return c, brw, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }
