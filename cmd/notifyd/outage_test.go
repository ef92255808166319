package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// tcpProxy forwards TCP connections from its address to target. stop
// closes the listener and every forwarded connection, which to notifyd
// looks like a database that went away; start listens again on the same
// address.
type tcpProxy struct {
	target string
	addr   string // 127.0.0.1:port, fixed by the first start

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newTCPProxy starts a proxy to target; it is stopped when the test ends.
func newTCPProxy(tb testing.TB, target string) *tcpProxy {
	tb.Helper()
	p := &tcpProxy{target: target, addr: "127.0.0.1:0", conns: make(map[net.Conn]struct{})}
	p.start(tb)
	tb.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) start(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatalf("proxy: listen on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(ln)
}

func (p *tcpProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client, server) {
			return
		}
		p.wg.Add(2)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// track registers a forwarded pair, or closes it when the proxy has been
// stopped meanwhile.
func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies one way; when either side ends, both are closed.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// stop closes the listener and every forwarded connection, and waits until
// the proxy's goroutines have ended. It is safe to call twice.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestDatabaseOutage is issue 4's database outage: notifyd reaches
// Postgres through a proxy that the test stops for ~10 s with two sockets
// open. Meanwhile the process stays up, publisher calls answer 503 in the
// JSON error shape quickly, /readyz is 503, /healthz 200, the open sockets
// stay open and answer pings, and a new socket is told to try again later
// (1013). Once the proxy is back on the same port, publishing works again
// within 2 s and the open sockets receive the new notifications.
func TestDatabaseOutage(t *testing.T) {
	if !storetest.Postgres(t) {
		t.Skip("the database outage test needs Postgres: set NOTIFYD_TEST_DATABASE_URL")
	}
	const (
		outage = 10 * time.Second
		// quickly is how fast a call must fail while the database is down
		// (issue 4: "503 quickly, not a hang"). It is well under the 5 s
		// database.query_timeout, so a call that waits for the dead
		// database instead of failing at once is caught.
		quickly = 3 * time.Second
		// recovery is the "works again within 2 s".
		recovery = 2 * time.Second
	)
	env := testEnv(t)
	dbURL, err := url.Parse(env["NOTIFYD_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, dbURL.Host)
	dbURL.Host = proxy.addr
	env["NOTIFYD_DATABASE_URL"] = dbURL.String()
	in := start(t, env)
	api := newAPIClient(t, in.HTTPURL)
	ctx := context.Background()

	userID, secret := api.user(t, "outage")
	tabs := []*wsClient{dialWS(t, in.WSURL, secret, 0), dialWS(t, in.WSURL, secret, 0)}
	before := api.notify(ctx, userID, "before the outage")
	if before.status != http.StatusCreated {
		t.Fatalf("publish before the outage: %v", before)
	}
	for i, tab := range tabs {
		if got := notificationID(t, tab); got != before.id {
			t.Fatalf("tab %d got %d, want %d", i, got, before.id)
		}
	}

	proxy.stop()
	down := time.Now()
	var slowest time.Duration
	for round := 0; time.Since(down) < outage; round++ {
		res := api.notify(ctx, userID, "during the outage")
		if res.err != nil || res.status != http.StatusServiceUnavailable || res.code != notify.EUNAVAILABLE {
			t.Fatalf("publish during the outage: %v, want 503 %s", res, notify.EUNAVAILABLE)
		}
		if res.elapsed > quickly {
			t.Fatalf("publish during the outage took %v, want a 503 within %v", res.elapsed, quickly)
		}
		slowest = max(slowest, res.elapsed)
		ready := api.do(ctx, "GET", "/readyz", "", nil)
		if ready.status != http.StatusServiceUnavailable || ready.elapsed > quickly {
			t.Fatalf("/readyz during the outage: %v, want 503 within %v", ready, quickly)
		}
		if live := api.do(ctx, "GET", "/healthz", "", nil); live.status != http.StatusOK {
			t.Fatalf("/healthz during the outage: %v, want 200", live)
		}
		for i, tab := range tabs {
			ping(t, tab, i)
		}
		if round == 0 {
			// A socket opened now cannot be authenticated: it is told to
			// come back later, not that its secret is bad (4401 would make
			// the client sign out).
			refusedWhileDown(t, in.WSURL, secret)
		}
		select {
		case err := <-in.done:
			t.Fatalf("run returned during the outage: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
	}

	t.Logf("slowest 503 during the outage: %v", slowest)
	proxy.start(t)
	up := time.Now()
	var after apiResult
	for {
		after = api.notify(ctx, userID, "after the outage")
		if after.status == http.StatusCreated {
			break
		}
		if time.Since(up) > recovery {
			t.Fatalf("publishing still fails %v after the database came back: %v", recovery, after)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("publishing worked again %v after the database came back", time.Since(up))
	for i, tab := range tabs {
		if got := notificationID(t, tab); got != after.id {
			t.Fatalf("tab %d got %d after the outage, want %d", i, got, after.id)
		}
	}
	if ready := api.do(ctx, "GET", "/readyz", "", nil); ready.status != http.StatusOK {
		t.Fatalf("/readyz after the outage: %v", ready)
	}
	// Nothing published during the outage was stored behind a 503.
	checkExactlyOnce(t, "database", api.ids(t, secret), []int64{before.id, after.id})
}

// notificationID reads the next message, which must be a notification.
func notificationID(tb testing.TB, c *wsClient) int64 {
	tb.Helper()
	m := c.next(tb)
	n, ok := m["notification"].(map[string]any)
	if m["type"] != "notification" || !ok {
		tb.Fatalf("got %v, want a notification", m)
	}
	return int64(n["id"].(float64))
}

// ping sends a client ping and expects the pong as the next message.
func ping(tb testing.TB, c *wsClient, i int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
		tb.Fatalf("tab %d: ping: %v", i, err)
	}
	if m := c.next(tb); m["type"] != "pong" {
		tb.Fatalf("tab %d: got %v, want a pong", i, m)
	}
}

// refusedWhileDown opens a socket while the database is down and expects
// close 1013 (try again later) after the auth message.
func refusedWhileDown(tb testing.TB, wsURL, secret string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := openSocket(ctx, wsURL, secret, 0, nil)
	if err == nil {
		conn.CloseNow()
		tb.Fatalf("a socket was authenticated while the database was down")
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1013 {
		tb.Fatalf("new socket during the outage: %v, want close 1013", err)
	}
}
