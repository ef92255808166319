package notify

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// HubConfig tunes the registry of open sockets. Its defaults are those of
// config.Default (ws section); the sizes must be positive.
type HubConfig struct {
	// SendQueue is the number of frames a socket may have waiting to be
	// written before it is closed with CloseQueueFull (ws.send_queue).
	SendQueue int
	// MaxPerUser caps the open sockets of one user (ws.max_connections_per_user).
	MaxPerUser int
	// Observer is told of queue-full closes, catch-up rows and, through
	// Service, created notifications; nil: NopObserver.
	Observer Observer
}

// Hub is the registry of every open socket, by user and by session. It is
// created once and shared by the HTTP API (through Service) and the
// websocket server.
//
// Publishing never blocks: the registry lock is held only to read the
// subscriber list, and each subscriber takes a frame into its own bounded
// queue or is closed. The network I/O happens in the websocket server's
// writer goroutine, which owns the connection.
type Hub struct {
	cfg    HubConfig
	nextID atomic.Uint64
	marks  changeMarks // what was published for whom, for Mark and ChangedSince

	mu sync.RWMutex
	// users and sessions hold each key's subscribers in a slice that is
	// never changed once stored: Register and Unregister store a new one
	// (copy on write), so a publish reads it under the read lock and
	// iterates it after, without copying — no allocation per publish. A
	// user has a handful of sockets (at most MaxPerUser), so the copy on
	// the rare register is cheap.
	users    map[int64][]*Subscriber
	sessions map[int64][]*Subscriber
	count    int
	closing  bool
	drained  chan struct{} // closed when closing and count reaches 0
}

// NewHub returns an empty hub.
func NewHub(cfg HubConfig) *Hub {
	cfg.Observer = observerOr(cfg.Observer)
	return &Hub{
		cfg:      cfg,
		users:    make(map[int64][]*Subscriber),
		sessions: make(map[int64][]*Subscriber),
		drained:  make(chan struct{}),
	}
}

// Register adds a socket of userID authenticated by sessionID; 0 means
// none (a socket authenticated by a token), and is not indexed. The
// subscriber starts in replay mode: frames published to it are held until
// GoLive, so the caller can register first and then read the backlog
// without missing what is published in between.
//
// It fails with ERATELIMIT when the user already has MaxPerUser sockets
// (checked under the lock, so concurrent connects cannot overshoot) and
// with EUNAVAILABLE once the hub is shutting down.
func (h *Hub) Register(userID, sessionID int64) (*Subscriber, error) {
	s := &Subscriber{
		ID:        h.nextID.Add(1),
		UserID:    userID,
		SessionID: sessionID,
		done:      make(chan struct{}),
		obs:       h.cfg.Observer,
		limit:     h.cfg.SendQueue,
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, Errorf(EUNAVAILABLE, "server is shutting down")
	}
	if len(h.users[userID]) >= h.cfg.MaxPerUser {
		return nil, Errorf(ERATELIMIT, "too many open connections for this user (max %d)", h.cfg.MaxPerUser)
	}
	add(h.users, userID, s)
	if sessionID != 0 {
		add(h.sessions, sessionID, s)
	}
	h.count++
	return s, nil
}

// Unregister removes s; the socket's owner calls it once the socket is
// closed. It is safe to call more than once.
func (h *Hub) Unregister(s *Subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.users[s.UserID], s) {
		return
	}
	remove(h.users, s.UserID, s)
	if s.SessionID != 0 {
		remove(h.sessions, s.SessionID, s)
	}
	h.count--
	if h.closing && h.count == 0 {
		close(h.drained)
	}
}

// add stores a new slice for k: the old one may be in a publisher's hands.
func add(m map[int64][]*Subscriber, k int64, s *Subscriber) {
	old := m[k]
	subs := make([]*Subscriber, len(old), len(old)+1)
	copy(subs, old)
	m[k] = append(subs, s)
}

// remove stores a new slice for k without s, or deletes k when s was the
// last.
func remove(m map[int64][]*Subscriber, k int64, s *Subscriber) {
	old := m[k]
	i := slices.Index(old, s)
	if i < 0 {
		return
	}
	if len(old) == 1 {
		delete(m, k)
		return
	}
	subs := make([]*Subscriber, 0, len(old)-1)
	m[k] = append(append(subs, old[:i]...), old[i+1:]...)
}

// UserCount returns the number of registered sockets of userID.
func (h *Hub) UserCount(userID int64) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.users[userID])
}

// snapshot returns the subscribers of k in m as they are now. The slice
// is shared (see Hub.users): read it, never change it.
func (h *Hub) snapshot(m map[int64][]*Subscriber, k int64) []*Subscriber {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return m[k]
}

// Publish hands f to every socket of userID and returns how many sockets it
// was offered to. It never blocks.
func (h *Hub) Publish(userID int64, f Frame) int {
	h.marks.touch(userID) // before the snapshot: see changeMarks
	subs := h.snapshot(h.users, userID)
	for _, s := range subs {
		s.deliver(f)
	}
	return len(subs)
}

// CloseSession closes every socket authenticated by sessionID for why and
// returns how many there were. Session 0 (none) closes nothing.
func (h *Hub) CloseSession(sessionID int64, why CloseReason, text string) int {
	if sessionID == 0 {
		return 0
	}
	h.marks.touchSession(sessionID) // before the snapshot: see SessionChangedSince
	subs := h.snapshot(h.sessions, sessionID)
	for _, s := range subs {
		s.Close(why, text)
	}
	return len(subs)
}

// Shutdown refuses new sockets, asks every open socket to close for why,
// and waits until their owners have unregistered them or ctx is done.
func (h *Hub) Shutdown(ctx context.Context, why CloseReason, text string) error {
	h.mu.Lock()
	if !h.closing {
		h.closing = true
		if h.count == 0 {
			close(h.drained)
		}
	}
	all := make([]*Subscriber, 0, h.count)
	for _, subs := range h.users {
		all = append(all, subs...)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.Close(why, text)
	}
	select {
	case <-h.drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
