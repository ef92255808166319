package notify

import (
	"context"
	"sync"
)

// watches count the sockets of each user on this instance, so that the
// broker hears of the first one (Broker.Watch) and of the last one
// (Broker.Unwatch), one call at a time per user. A second socket that
// opens while the first one's Watch runs waits for it: its hello must not
// read the database before the broker receives the user's changes either.
type watches struct {
	broker Broker

	mu    sync.Mutex
	users map[int64]*watch
}

// watch is one user's entry: its sockets, and whether Broker.Watch has
// returned (done closed) and how (err).
type watch struct {
	sockets int
	done    chan struct{}
	err     error
}

// acquire counts a socket of userID, calling Broker.Watch for the first
// one, and returns once the broker receives the user's changes. release
// uncounts it; the last release calls Broker.Unwatch.
func (w *watches) acquire(ctx context.Context, userID int64) (release func(), err error) {
	w.mu.Lock()
	if w.users == nil {
		w.users = make(map[int64]*watch)
	}
	e := w.users[userID]
	first := e == nil
	if first {
		e = &watch{done: make(chan struct{})}
		w.users[userID] = e
	}
	e.sockets++
	w.mu.Unlock()

	if first {
		err := w.broker.Watch(ctx, userID)
		if err != nil {
			// Every socket waiting for this Watch fails with it; the next
			// one starts afresh.
			w.mu.Lock()
			delete(w.users, userID)
			w.mu.Unlock()
		}
		e.err = err
		close(e.done)
	} else {
		<-e.done
	}
	if e.err != nil {
		return nil, e.err
	}
	var once sync.Once
	return func() { once.Do(func() { w.release(userID, e) }) }, nil
}

func (w *watches) release(userID int64, e *watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.sockets--; e.sockets > 0 || w.users[userID] != e {
		return
	}
	delete(w.users, userID)
	// Under mu, so that a new first socket's Watch starts after this
	// Unwatch: Unwatch must not block.
	w.broker.Unwatch(userID)
}

// Watch counts a socket of userID that has just been registered in the
// hub and returns once every change of userID committed from now on
// reaches this instance (Broker.Watch, for the user's first socket). Call
// it before the socket's hello reads the database, and release when the
// socket has closed.
func (s *Service) Watch(ctx context.Context, userID int64) (release func(), err error) {
	return s.watches.acquire(ctx, userID)
}

// Seen tells the broker what a socket's hello read: userID's seq, read
// with its newest notification id (Broker.Seen).
func (s *Service) Seen(userID, seq int64) { s.broker.Seen(userID, seq) }

// Local reports whether a socket may read its position before it
// registers (Broker.Local).
func (s *Service) Local() bool { return s.broker.Local() }
