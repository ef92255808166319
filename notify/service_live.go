package notify

import (
	"context"
	"fmt"
	"time"
)

// What the Service publishes without storing a notification: live events
// and revoked sessions.

// SendEvent pushes a live-only event to the open sockets of userID, on
// every instance with a cluster broker, and returns how many sockets of
// this instance it went to. Nothing is stored: a user with no socket open
// does not get it, and a cluster broker delivers it at most once.
func (s *Service) SendEvent(ctx context.Context, userID int64, e Event) (int, error) {
	if err := e.Validate(); err != nil {
		return 0, err
	}
	if err := s.broker.Publish(ctx, []Change{{Kind: ChangeEvent, User: userID, At: time.Now(), Event: &e}}); err != nil {
		return 0, fmt.Errorf("notify: send event: %w", err)
	}
	return s.hub.UserCount(userID), nil
}

// CloseSession closes every socket authenticated by sessionID with
// CloseUnauthorized: the session was revoked.
func (s *Service) CloseSession(ctx context.Context, sessionID int64) int {
	return s.CloseSessions(ctx, []int64{sessionID})
}

// CloseSessions closes every socket authenticated by one of sessionIDs
// with CloseUnauthorized, here at once and on every instance through the
// broker: the sessions were revoked (log out everywhere, or the oldest
// beyond the cap). The session rows are already gone, so the secrets no
// longer authenticate; a revocation the broker loses is repaired by the
// receivers' audit, which closes the sockets of deleted sessions.
func (s *Service) CloseSessions(ctx context.Context, sessionIDs []int64) int {
	if len(sessionIDs) == 0 {
		return 0
	}
	n := 0
	changes := make([]Change, len(sessionIDs))
	for i, id := range sessionIDs {
		n += s.hub.CloseSession(id, CloseUnauthorized, "session revoked")
		changes[i] = Change{Kind: ChangeSession, Session: id, At: time.Now()}
	}
	if err := s.broker.Publish(ctx, changes); err != nil {
		s.logger.Error("notify: publish logout", "sessions", len(sessionIDs), "error", err)
	}
	return n
}
