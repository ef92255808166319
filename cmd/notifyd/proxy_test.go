package main

import (
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store/storetest"
)

// proxiedEnv is testEnv on a fresh Postgres database that notifyd reaches
// through a tcpProxy the test controls. Postgres only: the caller skips
// otherwise.
func proxiedEnv(tb testing.TB) (map[string]string, *tcpProxy) {
	tb.Helper()
	if !storetest.Postgres(tb) {
		tb.Fatal("proxiedEnv needs Postgres")
	}
	env := testEnv(tb)
	dbURL, err := url.Parse(env["NOTIFYD_DATABASE_URL"])
	if err != nil {
		tb.Fatal(err)
	}
	proxy := newTCPProxy(tb, dbURL.Host)
	dbURL.Host = proxy.addr
	env["NOTIFYD_DATABASE_URL"] = dbURL.String()
	return env, proxy
}

// tcpProxy forwards TCP connections from its address to target. stop
// closes the listener and every forwarded connection, which to notifyd
// looks like a database that went away (connections refused and reset);
// start listens again on the same address. freeze holds every byte instead,
// which looks like a database that stopped answering (a network partition,
// a hung server); thaw lets the held bytes through.
type tcpProxy struct {
	target string
	addr   string // 127.0.0.1:port, fixed by the first start

	mu     sync.Mutex
	thawed *sync.Cond // signalled when frozen turns false
	frozen bool
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// newTCPProxy starts a proxy to target; it is stopped when the test ends.
func newTCPProxy(tb testing.TB, target string) *tcpProxy {
	tb.Helper()
	p := &tcpProxy{target: target, addr: "127.0.0.1:0", conns: make(map[net.Conn]struct{})}
	p.thawed = sync.NewCond(&p.mu)
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

// pipe copies one way, holding what it read while the proxy is frozen;
// when either side ends, both are closed.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.frozen {
				p.thawed.Wait()
			}
			p.mu.Unlock()
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// freeze holds every byte from now on, both ways, on every connection,
// new ones included (the listener's backlog still completes handshakes).
func (p *tcpProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

// thaw lets the held bytes through and forwards as usual again.
func (p *tcpProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = false
	p.thawed.Broadcast()
}

// stop closes the listener and every forwarded connection, and waits until
// the proxy's goroutines have ended. It is safe to call twice.
func (p *tcpProxy) stop() {
	p.thaw()
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
