package cluster_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

// proxy is a TCP proxy to Postgres that a test can cut and restore, to
// keep the listener away from the database for a while.
type proxy struct {
	target string
	ln     net.Listener
	addr   string

	mu    sync.Mutex
	up    bool
	conns []net.Conn
	wg    sync.WaitGroup
}

// newProxy starts a proxy to the server of db and returns it with db's
// URL rewritten to go through it.
func newProxy(tb testing.TB, db config.Database) (*proxy, string) {
	tb.Helper()
	u, err := url.Parse(db.URL)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{target: u.Host, ln: ln, addr: ln.Addr().String(), up: true}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.close)
	u.Host = p.addr
	return p, u.String()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if !p.up {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		d, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, d)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, d)
		go p.pipe(d, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut drops every proxied connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore accepts connections again.
func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = true
}

func (p *proxy) close() {
	p.cut()
	p.ln.Close()
	p.wg.Wait()
}

// publisher creates notifications for users through svc until stopped,
// and returns how many it created.
type publisher struct {
	stop chan struct{}
	done chan int
}

func publish(tb testing.TB, svc *notify.Service, users []int64) *publisher {
	tb.Helper()
	p := &publisher{stop: make(chan struct{}), done: make(chan int, 1)}
	go func() {
		n := 0
		defer func() { p.done <- n }()
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			uid := users[n%len(users)]
			if _, err := svc.Notify(context.Background(), uid, notify.NewNotification{Title: "t"}); err != nil {
				tb.Errorf("notify: %v", err)
				return
			}
			n++
		}
	}()
	return p
}

// halt stops the publisher and returns how many it created.
func (p *publisher) halt() int {
	close(p.stop)
	return <-p.done
}
