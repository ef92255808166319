package storetest

import (
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// ProxyURL starts a Proxy to the host of the database URL rawURL and
// returns it with rawURL rewritten to go through it.
func ProxyURL(tb testing.TB, rawURL string) (*Proxy, string) {
	tb.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatalf("proxy: database URL: %v", err)
	}
	p := NewProxy(tb, u.Host)
	u.Host = p.Addr()
	return p, u.String()
}

// Proxy forwards TCP connections from its address to target, so a test
// can take the database away from the code under test. Stop
// closes the listener and every forwarded connection, which to notifyd
// looks like a database that went away (connections refused and reset);
// Start listens again on the same address. Freeze holds every byte instead,
// which looks like a database that stopped answering (a network partition,
// a hung server); Thaw lets the held bytes through.
type Proxy struct {
	target string
	addr   string // 127.0.0.1:port, fixed by the first Start

	mu     sync.Mutex
	thawed *sync.Cond // signalled when frozen turns false
	frozen bool
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to target (host:port); it is stopped when the
// test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p := &Proxy{target: target, addr: "127.0.0.1:0", conns: make(map[net.Conn]struct{})}
	p.thawed = sync.NewCond(&p.mu)
	p.Start(tb)
	tb.Cleanup(p.Stop)
	return p
}

func (p *Proxy) Start(tb testing.TB) {
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

func (p *Proxy) accept(ln net.Listener) {
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
func (p *Proxy) track(conns ...net.Conn) bool {
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
func (p *Proxy) pipe(dst, src net.Conn) {
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

// Freeze holds every byte from now on, both ways, on every connection,
// new ones included (the listener's backlog still completes handshakes).
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

// Thaw lets the held bytes through and forwards as usual again.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = false
	p.thawed.Broadcast()
}

// Stop closes the listener and every forwarded connection, and waits until
// the proxy's goroutines have ended. It is safe to call twice.
func (p *Proxy) Stop() {
	p.Thaw()
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

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}
