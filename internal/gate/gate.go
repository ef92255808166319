// Package gate counts the goroutines a server starts, so that closing it
// can wait for them, and refuses new ones once closing has begun: the
// lifecycle shared by the websocket server's connections and the cluster
// listener's Run.
package gate

import "sync"

// Gate is a sync.WaitGroup that no goroutine can enter once Close has
// begun, so that Close never waits for one that started after it. The
// zero Gate is open.
type Gate struct {
	// mu orders the Add of Enter against the closed flag of Close: a
	// WaitGroup must not be added to while Wait may run at zero.
	mu     sync.Mutex
	closed bool
	inside sync.WaitGroup
}

// Enter counts one goroutine in, or reports false once Close has begun.
// Every Enter that reports true is matched by one Leave.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inside.Add(1)
	return true
}

// Leave counts one goroutine out.
func (g *Gate) Leave() {
	g.inside.Done()
}

// Close refuses every later Enter, calls stop (which must make the
// goroutines inside end: a context's cancel) and waits until they have
// all left. It is safe to call more than once.
func (g *Gate) Close(stop func()) {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	stop()
	g.inside.Wait()
}
