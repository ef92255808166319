package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// dialConcurrency bounds the handshakes in flight per process, so a large
// -sockets value queues instead of overflowing the server's accept backlog.
const dialConcurrency = 256

// closeConcurrency bounds the close handshakes in flight at the end.
const closeConcurrency = 512

// socketSpec is one socket to open: its global index (to report failures),
// the user it belongs to, that user's session secret, and the instance to
// dial when there are several (else the group's URL).
type socketSpec struct {
	Index  int    `json:"i"`
	User   int64  `json:"u"`
	Secret string `json:"s"`
	WS     string `json:"w,omitempty"`
}

// group is the set of sockets one process holds and what they measured.
// Counters are atomic because every socket has its own reader goroutine.
type group struct {
	wsURL   string
	timeout time.Duration // per socket: dial + auth + hello
	hc      *http.Client
	// resume: a socket that drops reconnects and resumes with after_id,
	// as the JS client does, and keeps every id it received (-fault; see
	// resume.go). Otherwise a dropped socket stays closed.
	resume bool
	burst  time.Duration // catchUpBurst (resume.go)
	done   chan struct{} // closed by close: reconnects stop
	resumed

	connectLat histogram // per socket, dial to hello
	latency    histogram // publish stamp to frame receipt

	attempted, connected, failed             atomic.Int64
	delivered, duplicates, outOfOrder, other atomic.Int64
	lastFrame                                atomic.Int64 // unix nanos of the newest notification frame
	closing                                  atomic.Bool

	mu             sync.Mutex // guards the fields below
	conns          []*websocket.Conn
	tracks         []*track // with resume: every socket, whatever connection it is on
	connectErrors  map[string]int64
	closeCodes     map[string]int64
	failedSockets  []int
	connectDone    bool
	connectElapsed time.Duration

	readers sync.WaitGroup
}

func newGroup(wsURL string, timeout time.Duration, resume bool) *group {
	return &group{
		wsURL:         wsURL,
		timeout:       timeout,
		resume:        resume,
		burst:         catchUpBurst,
		done:          make(chan struct{}),
		hc:            newHTTPClient(0, dialConcurrency),
		connectErrors: map[string]int64{},
		closeCodes:    map[string]int64{},
	}
}

// connect opens every socket in specs, at most connectRate new sockets per
// second (0: unlimited), and returns when each has connected or failed.
func (g *group) connect(ctx context.Context, specs []socketSpec, connectRate float64) {
	start := time.Now()
	var lim *rate.Limiter
	if connectRate > 0 {
		lim = rate.NewLimiter(rate.Limit(connectRate), 1)
	}
	sem := make(chan struct{}, dialConcurrency)
	var wg sync.WaitGroup
	for i, s := range specs {
		if lim != nil && lim.Wait(ctx) != nil || !acquire(ctx, sem) {
			for _, rest := range specs[i:] {
				g.fail(rest.Index, ctx.Err())
			}
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			g.open(ctx, s)
		})
	}
	wg.Wait()
	g.mu.Lock()
	g.connectDone = true
	g.connectElapsed = time.Since(start)
	g.mu.Unlock()
}

// acquire takes a slot of sem unless ctx ends first.
func acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// open dials one socket, authenticates it and starts its reader.
func (g *group) open(ctx context.Context, s socketSpec) {
	g.attempted.Add(1)
	start := time.Now()
	c, unread, err := g.dialAuth(ctx, s, -1)
	if err != nil {
		g.fail(s.Index, err)
		return
	}
	g.connectLat.record(time.Since(start))
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing.Load() {
		c.CloseNow()
		g.failed.Add(1)
		g.failedSockets = append(g.failedSockets, s.Index)
		g.connectErrors["closed before use"]++
		return
	}
	g.connected.Add(1)
	g.readers.Add(1)
	if g.resume {
		t := &track{spec: s, base: unread, conn: c}
		g.tracks = append(g.tracks, t)
		go g.follow(t)
		return
	}
	g.conns = append(g.conns, c)
	go g.read(c)
}

// fail counts a socket that could not be opened.
func (g *group) fail(index int, err error) {
	g.failed.Add(1)
	g.mu.Lock()
	g.failedSockets = append(g.failedSockets, index)
	g.connectErrors[errorKind(err)]++
	g.mu.Unlock()
}

// read consumes frames until the socket closes, recording per frame the
// latency, duplicates and order violations. Ids of one socket must rise.
func (g *group) read(c *websocket.Conn) {
	defer g.readers.Done()
	var last int64
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			if !g.closing.Load() {
				g.recordClose(err)
			}
			c.CloseNow()
			return
		}
		now := time.Now()
		id, stamp, ok := parseNotification(data)
		if !ok {
			g.other.Add(1)
			continue
		}
		switch {
		case id == last:
			g.duplicates.Add(1)
			continue
		case id < last:
			g.outOfOrder.Add(1)
		default:
			last = id
		}
		g.delivered.Add(1)
		if stamp > 0 {
			g.latency.record(now.Sub(time.Unix(0, stamp)))
		}
		storeMax(&g.lastFrame, now.UnixNano())
	}
}

// recordClose counts how a socket ended that we did not close ourselves:
// the close code the server sent, or 1006 when the connection just dropped.
func (g *group) recordClose(err error) {
	key := "1006"
	if code := websocket.CloseStatus(err); code != -1 {
		key = strconv.Itoa(int(code))
	}
	g.mu.Lock()
	g.closeCodes[key]++
	g.mu.Unlock()
}

// close ends every socket with a normal closure, at most closeConcurrency
// at a time, falling back to dropping the rest when ctx ends.
func (g *group) close(ctx context.Context) {
	g.mu.Lock()
	if !g.closing.Swap(true) {
		close(g.done)
	}
	conns := g.conns
	g.conns = nil
	for _, t := range g.tracks {
		if c := t.current(); c != nil {
			conns = append(conns, c)
		}
	}
	g.mu.Unlock()
	sem := make(chan struct{}, closeConcurrency)
	var wg sync.WaitGroup
	for _, c := range conns {
		if !acquire(ctx, sem) {
			c.CloseNow()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c.Close(websocket.StatusNormalClosure, "bench done")
		})
	}
	wg.Wait()
	g.readers.Wait()
}

// stats returns the cumulative measurements so far.
func (g *group) stats() fleetStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fleetStats{
		Attempted:      g.attempted.Load(),
		Connected:      g.connected.Load(),
		Failed:         g.failed.Load(),
		ConnectDone:    g.connectDone,
		ConnectElapsed: g.connectElapsed,
		FailedSockets:  append([]int(nil), g.failedSockets...),
		ConnectErrors:  copyCounts(g.connectErrors),
		Connect:        g.connectLat.snapshot(),
		Delivered:      g.delivered.Load(),
		Duplicates:     g.duplicates.Load(),
		OutOfOrder:     g.outOfOrder.Load(),
		Other:          g.other.Load(),
		LastFrame:      g.lastFrame.Load(),
		Latency:        g.latency.snapshot(),
		CloseCodes:     copyCounts(g.closeCodes),
		Recovery:       g.resumed.stats(),
	}
}

// storeMax raises v to n if n is larger.
func storeMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
