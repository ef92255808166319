package notify

import (
	"context"
	"runtime"
	"sync"
)

// hashGate bounds the password hashes computed at once across the whole
// process. Each argon2id hash holds PasswordParams.MemoryKiB (19 MiB) for
// its duration, so without a bound a login flood costs memory in
// proportion to its size (100 concurrent logins took 2 GB). A few callers
// may wait for a slot; the rest are refused at once with EBUSY, which the
// HTTP API answers with 503 and Retry-After.
type hashGate struct {
	slots chan struct{} // a token per hash in flight

	mu         sync.Mutex
	waiting    int
	maxWaiting int
}

// newHashGate allows concurrency hashes at once (0: the number of usable
// CPUs, as more would only queue on them) and queue callers waiting.
func newHashGate(concurrency, queue int) *hashGate {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	return &hashGate{slots: make(chan struct{}, concurrency), maxWaiting: queue}
}

func errBusy() error {
	return Errorf(EBUSY, "too many logins at once; retry in a moment")
}

// run calls hash once a slot is free. It fails with EBUSY, without
// calling hash, when the wait queue is full or ctx ends while waiting.
func (g *hashGate) run(ctx context.Context, hash func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		if err := g.wait(ctx); err != nil {
			return err
		}
	}
	defer func() { <-g.slots }()
	hash()
	return nil
}

// wait takes a place in the queue, then a slot.
func (g *hashGate) wait(ctx context.Context) error {
	g.mu.Lock()
	if g.waiting >= g.maxWaiting {
		g.mu.Unlock()
		return errBusy()
	}
	g.waiting++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errBusy()
	}
}
