package wsserver

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// The live phase of a connection. An idle socket keeps only its reader
// goroutine: no goroutine waits for frames. Whatever gives the connection
// work — a frame queued by the hub, the subscriber closed, a ping due, a
// client ping to answer, the reader ended, the server closing — calls kick,
// which starts a writer goroutine unless one is running. The writer does
// what is waiting and exits when nothing is left. So there is still one
// writer at a time, frames go out in order, and every write keeps its
// ws.write_timeout; a socket costs a goroutine stack only while it writes.

// goLive hands the greeted connection to kick-started writers; the
// handler's goroutine returns after it.
//
// The first writer is the handler's goroutine itself, which ends here
// anyway: it looks at what came before SetWake (frames queued by GoLive,
// pongs owed, a reader that ended, a Close during the greeting) and
// returns when nothing is left, as any writer. A kick would start a
// goroutine per connect that nearly always finds nothing to do (issue 11,
// the connect path).
func (c *conn) goLive() {
	c.pinger = time.AfterFunc(c.cfg.PingInterval.D(), c.pingDue)
	c.stopWake = context.AfterFunc(c.ctx, c.kick)
	c.sub.SetWake(c.kick)
	c.wmu.Lock()
	c.live = true
	c.kicked = true
	first := !c.writing // always: no kick starts a writer before live
	c.writing = true
	c.wmu.Unlock()
	if first {
		c.writer()
	}
}

// kick records that the writer has work and starts it if it is not
// running. It never blocks: the hub calls it while publishing.
func (c *conn) kick() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.kicked = true
	if !c.live || c.writing {
		return
	}
	c.writing = true
	go c.writerFn()
}

// pingDue is the ping timer's function.
func (c *conn) pingDue() {
	c.pingNow.Store(true)
	c.kick()
}

// writer runs while there is work. A kick that comes while it works is
// seen by the next round: kicked is cleared before the work is looked at,
// and checked again, under the lock, before the writer gives up its place.
// Once the connection ends, writing stays true and kicks start nothing.
func (c *conn) writer() {
	for {
		c.wmu.Lock()
		if !c.kicked {
			c.writing = false
			c.wmu.Unlock()
			return
		}
		c.kicked = false
		c.wmu.Unlock()
		if cl, end := c.step(); end {
			c.finish(cl)
			return
		}
	}
}

// step writes the queued frames, the pongs owed and a ping when due. It
// reports end, and how to close, when the hub closed the subscriber, the
// reader ended, the server is closing, or a write or ping failed.
func (c *conn) step() (closing, bool) {
	m := c.srv.deps.Metrics
	for {
		// Checked before every frame: a socket told to close (logout,
		// full queue, shutdown) does not write on.
		if cl, end := c.ended(); end {
			return cl, true
		}
		f, ok := c.sub.Next()
		if !ok {
			break
		}
		if err := c.write(f.Data); err != nil {
			return lost(), true
		}
		m.FrameDelivered(f.Type, f.At)
	}
	for n := c.pongs.Swap(0); n > 0; n-- {
		if err := c.write(notify.PongFrame()); err != nil {
			return lost(), true
		}
		m.FrameDelivered("pong", time.Time{})
	}
	if c.pingNow.Swap(false) {
		// The writer waits for the pong (a round trip, normally): a ping
		// runs alone, never beside another write of ours. A client too
		// slow to answer may fill its queue meanwhile, and resumes after
		// 4008 like any slow reader.
		pctx, cancel := context.WithTimeout(c.ctx, c.cfg.PongTimeout.D())
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil {
			if c.ctx.Err() != nil {
				return serverClose(CloseGoingAway, "server shutting down"), true
			}
			return serverClose(CloseTimeout, "pong timeout"), true
		}
		c.pinger.Reset(c.cfg.PingInterval.D())
	}
	return closing{}, false
}

// ended reports whether the connection must end: the hub closed the
// subscriber, the reader ended or the server is closing.
func (c *conn) ended() (closing, bool) {
	select {
	case <-c.sub.Done():
		return c.subClosed(), true
	case r := <-c.readDone:
		return c.readerEnded(r), true
	case <-c.ctx.Done():
		return serverClose(CloseGoingAway, "server shutting down"), true
	default:
		return closing{}, false
	}
}
