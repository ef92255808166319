package wsserver

import (
	"net"
	"net/http"
	"sync"

	"github.com/notifyd/notifyd/notify"
)

// pending counts the sockets that have not authenticated yet, per client
// address and in total. Each costs two goroutines and buffers until
// ws.auth_timeout; 2,000 of them from one client were all accepted before
// this bound.
type pending struct {
	perAddress int // ws.max_unauthenticated_per_address
	total      int // ws.max_unauthenticated

	mu     sync.Mutex
	byAddr map[string]int
	n      int
}

func newPending(perAddress, total int) *pending {
	return &pending{perAddress: perAddress, total: total, byAddr: make(map[string]int)}
}

// acquire counts one more unauthenticated socket from r's client, or
// reports false when a limit is reached. release, safe to call more than
// once, stops counting it.
func (p *pending) acquire(r *http.Request) (release func(), ok bool) {
	addr := clientAddress(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n >= p.total || p.byAddr[addr] >= p.perAddress {
		return nil, false
	}
	p.n++
	p.byAddr[addr]++
	var once sync.Once
	return func() { once.Do(func() { p.release(addr) }) }, true
}

func (p *pending) release(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n--
	if p.byAddr[addr]--; p.byAddr[addr] <= 0 {
		delete(p.byAddr, addr)
	}
}

// clientAddress is the TCP peer of r, IPv6 by /64 (notify.AddressKey).
// Behind a reverse proxy that is the proxy: config.toml says so.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return notify.AddressKey(host)
}
