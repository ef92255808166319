package main

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// A dropped socket of a -fault run dials again after redialMin, doubling
// up to redialMax between attempts, until it is back or the run ends: an
// instance killed and restarted takes seconds to listen again.
const (
	redialMin = 50 * time.Millisecond
	redialMax = time.Second
)

// catchUpBurst is how soon after a catch-up's newest row its unread_count
// frame arrives: both are queued to the socket together, so only the
// client's own scheduling on a busy box comes between them.
const catchUpBurst = 20 * time.Millisecond

// track is one socket of a -fault run across its connections: every
// notification id it received, in the order received, for the check
// against the database at the end (verify.go).
type track struct {
	spec socketSpec
	base int64 // the unread count of its first hello: the position before the run

	mu       sync.Mutex
	conn     *websocket.Conn // nil while it redials
	ids      []int64
	last     int64 // highest id received: the after_id of a resume
	accepted int64 // ids received above the previous highest
}

// current returns the connection the socket is on, nil while it redials.
func (t *track) current() *websocket.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conn
}

// resumed is what a group of -fault sockets measures beyond a plain run:
// which frames came live and which were recovered from the database.
//
// A frame sent live carries the unread count of its own commit: its
// position in the user's sequence (the base plus the notifications up to
// it, since the run only adds unread ones). A replay after a resume sends
// every row with the count read after the rows, also given in its hello;
// a cluster catch-up sends its rows with the count it read after them,
// then an unread_count frame with that count. So a frame is recovered
//   - when its count is above its position (a newer row was counted);
//   - on a resumed connection before any live frame, when its count is the
//     hello's (the newest row of the replay);
//   - when an unread_count frame with its count follows it within
//     catchUpBurst (the newest row of a catch-up, queued together with the
//     count).
//
// Two rare cases are split wrongly: a live frame that a catch-up with
// nothing to send follows that closely counts as repaired, and a row
// committed between a replay's read and its count (sent live, with the
// hello's count when it is the newest) counts as replayed.
type resumed struct {
	reconnects    atomic.Int64 // connections opened again after a drop
	redials       atomic.Int64 // attempts that failed (the instance was down)
	replayed      atomic.Int64 // recovered frames on a resumed connection before its first live one
	repaired      atomic.Int64 // recovered frames otherwise (a cluster catch-up)
	catchUps      atomic.Int64 // unread_count frames: the end of a catch-up
	recoveredLat  histogram    // publish stamp to receipt, recovered frames only
	lastRecovered atomic.Int64 // unix nanos of the last recovered frame
}

// recoveryStats is the JSON form of resumed in fleetStats.
type recoveryStats struct {
	Reconnects    int64        `json:"reconnects"`
	Redials       int64        `json:"failed_redials"`
	Replayed      int64        `json:"replayed"`
	Repaired      int64        `json:"repaired"`
	CatchUps      int64        `json:"catch_ups"`
	Latency       histSnapshot `json:"latency"`
	LastRecovered int64        `json:"last_recovered"`
}

// add merges o into r (several processes' sockets).
func (r *recoveryStats) add(o recoveryStats) {
	r.Reconnects, r.Redials = r.Reconnects+o.Reconnects, r.Redials+o.Redials
	r.Replayed, r.Repaired, r.CatchUps = r.Replayed+o.Replayed, r.Repaired+o.Repaired, r.CatchUps+o.CatchUps
	r.Latency.merge(o.Latency)
	r.LastRecovered = max(r.LastRecovered, o.LastRecovered)
}

func (r *resumed) stats() recoveryStats {
	return recoveryStats{
		Reconnects: r.reconnects.Load(), Redials: r.redials.Load(),
		Replayed: r.replayed.Load(), Repaired: r.repaired.Load(), CatchUps: r.catchUps.Load(),
		Latency: r.recoveredLat.snapshot(), LastRecovered: r.lastRecovered.Load(),
	}
}

// follow reads t's frames, and when its connection drops, dials again
// with after_id set to the highest id it has, until the group closes.
func (g *group) follow(t *track) {
	defer g.readers.Done()
	c, hello := t.current(), int64(-1) // -1: not a resumed connection
	for {
		err := g.readTracked(t, c, hello)
		c.CloseNow()
		if g.closing.Load() {
			return
		}
		g.recordClose(err)
		t.mu.Lock()
		t.conn = nil
		t.mu.Unlock()
		if c, hello = g.redial(t); c == nil {
			return
		}
	}
}

// liveCandidate is the last frame taken for live, which a catch-up's
// unread_count frame may still show to be the newest row of a catch-up.
type liveCandidate struct {
	at      time.Time
	unread  int64
	latency time.Duration // -1: no stamp
}

// readTracked reads one connection of t until it fails. hello is the
// unread count of the connection's hello when it resumed, -1 otherwise.
func (g *group) readTracked(t *track, c *websocket.Conn, hello int64) error {
	live := false // a live frame came on this connection
	var cand *liveCandidate
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			return err
		}
		now := time.Now()
		id, stamp, ok := parseNotification(data)
		if !ok {
			g.other.Add(1)
			if frameType(data) == "unread_count" {
				g.catchUps.Add(1)
				if n, _ := unreadCount(data); cand != nil && n == cand.unread && now.Sub(cand.at) <= g.burst {
					g.recovered(g.repaired.Add, cand.at, cand.latency)
				}
			}
			cand = nil
			continue
		}
		cand = nil
		unread, hasCount := unreadCount(data)
		t.mu.Lock()
		t.ids = append(t.ids, id)
		fresh, repeat := id > t.last, id == t.last
		if fresh {
			t.last = id
			t.accepted++
		}
		position := t.base + t.accepted
		t.mu.Unlock()
		switch {
		case repeat:
			g.duplicates.Add(1)
			continue
		case !fresh:
			g.outOfOrder.Add(1)
		}
		g.delivered.Add(1)
		latency := time.Duration(-1)
		if stamp > 0 {
			latency = now.Sub(time.Unix(0, stamp))
			g.latency.record(latency)
		}
		storeMax(&g.lastFrame, now.UnixNano())
		switch {
		case !fresh || !hasCount:
		case hello >= 0 && !live && (unread > position || unread == hello):
			g.recovered(g.replayed.Add, now, latency)
		case unread > position:
			g.recovered(g.repaired.Add, now, latency)
		default:
			live = true
			cand = &liveCandidate{at: now, unread: unread, latency: latency}
		}
	}
}

// recovered counts one recovered frame with count, received at with
// latency (-1: no stamp).
func (g *group) recovered(count func(int64) int64, at time.Time, latency time.Duration) {
	count(1)
	if latency >= 0 {
		g.recoveredLat.record(latency)
	}
	storeMax(&g.lastRecovered, at.UnixNano())
}

// redial dials t again, resuming after its highest id, until it succeeds
// (the connection and its hello's unread count are returned) or the group
// closes (nil).
func (g *group) redial(t *track) (*websocket.Conn, int64) {
	wait := redialMin
	for {
		select {
		case <-g.done:
			return nil, -1
		case <-time.After(wait):
		}
		t.mu.Lock()
		after := t.last
		t.mu.Unlock()
		// The dial ends early when the run does.
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-g.done:
			case <-ctx.Done():
			}
			cancel()
		}()
		c, hello, err := g.dialAuth(ctx, t.spec, after)
		cancel()
		if err != nil {
			g.redials.Add(1)
			wait = min(2*wait, redialMax)
			continue
		}
		t.mu.Lock()
		closing := g.closing.Load()
		if !closing {
			t.conn = c
		}
		t.mu.Unlock()
		if closing {
			c.CloseNow()
			return nil, -1
		}
		g.reconnects.Add(1)
		return c, hello
	}
}

var unreadKey = []byte(`"unread_count":`)

// unreadCount returns the top-level unread_count of a notification frame:
// notifyd writes it last, after the notification (whose content is the
// tool's own and never contains the key).
func unreadCount(data []byte) (int64, bool) {
	i := bytes.LastIndex(data, unreadKey)
	if i < 0 {
		return 0, false
	}
	return leadingInt(data[i+len(unreadKey):])
}
