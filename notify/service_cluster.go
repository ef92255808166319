package notify

import (
	"context"
	"fmt"
)

// Broadcaster announces doorbells to every notifyd instance sharing the
// database (store.Store in cluster mode).
type Broadcaster interface {
	// Broadcast commits bells on DoorbellChannel in one transaction. An
	// event too large for a payload is stored as a short-lived row and
	// announced by id (BellEventRow).
	Broadcast(ctx context.Context, bells ...Doorbell) error
}

// UseDoorbell switches s to cluster mode. The store then rings a doorbell
// inside every transaction that changes notifications, and the listener of
// each instance — this one included — delivers from the doorbells to its
// own sockets, so frames reach every socket in commit order. s stops
// pushing after commit, and events and logouts go out through b. Call it
// once, before s is used.
func (s *Service) UseDoorbell(b Broadcaster) { s.bell = b }

// publish pushes a change to the user's sockets, except in cluster mode,
// where the committing transaction has rung the doorbell instead.
func (s *Service) publish(userID int64, f Frame) {
	if s.bell != nil {
		return
	}
	s.hub.Publish(userID, f)
}

// broadcastEvent sends e to userID's sockets on every instance and
// returns how many of them are on this instance.
func (s *Service) broadcastEvent(ctx context.Context, userID int64, e Event) (int, error) {
	if err := s.bell.Broadcast(ctx, Doorbell{Kind: BellEvent, User: userID, Event: &e}); err != nil {
		return 0, fmt.Errorf("notify: send event: %w", err)
	}
	return s.hub.UserCount(userID), nil
}

// broadcastLogout closes the sockets of sessionIDs here at once and asks
// every instance to close theirs, one doorbell per session in one
// transaction. The session rows are already gone (the secrets no longer
// authenticate), so a failed broadcast leaves remote sockets open only
// until their instance's listener next catches up: a catch-up also closes
// the sockets of deleted sessions.
func (s *Service) broadcastLogout(ctx context.Context, sessionIDs []int64) int {
	n := 0
	bells := make([]Doorbell, len(sessionIDs))
	for i, id := range sessionIDs {
		n += s.hub.CloseSession(id, CloseUnauthorized, "session revoked")
		bells[i] = Doorbell{Kind: BellSession, Session: id}
	}
	if err := s.bell.Broadcast(ctx, bells...); err != nil && s.logger != nil {
		s.logger.Error("notify: broadcast logout", "sessions", len(sessionIDs), "error", err)
	}
	return n
}
