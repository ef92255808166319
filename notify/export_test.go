package notify

import "context"

// QueuedRows returns how many rows wait for the group committer, so tests
// can line calls up behind a batch before letting it commit.
func (s *Service) QueuedRows() int {
	s.batch.mu.Lock()
	defer s.batch.mu.Unlock()
	return s.batch.rows
}

// Unsettled returns how many users wait for a catch-up after an insert of
// unknown outcome, and whether the background loop runs (settle.go).
func (s *Service) Unsettled() (users int, running bool) {
	s.settle.mu.Lock()
	defer s.settle.mu.Unlock()
	return len(s.settle.users), s.settle.running
}

// HoldHash runs hold in one of the password-hashing slots of a, as a hash
// would, so tests can fill the gate.
func (a *Accounts) HoldHash(ctx context.Context, hold func()) error { return a.hashes.run(ctx, hold) }

// HashWaiting returns how many callers wait for a hashing slot.
func (a *Accounts) HashWaiting() int {
	a.hashes.mu.Lock()
	defer a.hashes.mu.Unlock()
	return a.hashes.waiting
}

// Count returns the number of registered sockets.
func (h *Hub) Count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.count
}

// Cursor returns the highest notification id queued for s.
func (s *Subscriber) Cursor() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

// CatchUpFloors returns the catch-up floors of every user with a socket.
func (h *Hub) CatchUpFloors() map[int64]int64 { return h.catchUpFloorsOf(h.UserIDs()) }

// AuditNow runs one audit of r, as its Run does every ReceiverConfig.Audit.
func (r *Receiver) AuditNow(ctx context.Context) error { return r.audit(ctx) }

// AuditSessionsNow runs one audit of the sessions of r's sockets, as its
// Run does every ReceiverConfig.SessionAudit.
func (r *Receiver) AuditSessionsNow(ctx context.Context) error { return r.auditSessions(ctx) }

// JSONSize is Notification.jsonSize: at least what AppendJSON appends
// when nothing needs escaping.
func (n Notification) JSONSize() int { return n.jsonSize() }
