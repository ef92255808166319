package cluster

import (
	"context"
	"fmt"

	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
)

// Receiving. The LISTEN loop (run.go) verifies each doorbell and queues
// its changes in the inbox (resolve.go), never waiting for the database;
// the resolver reads back what they name, in batches, and hands them to
// the receiver in arrival order.

// staleAfter is the age past which a doorbell's change is dropped: the
// events it may name are swept after eventTTL anyway, and a
// replayed change must not reach a socket whose receiver has not started
// the user's sequence yet (cluster clocks are assumed within seconds).
const staleAfter = eventTTL

// receive verifies a doorbell and queues the changes of other instances
// for users with a socket here (and every revoked session). One that is
// not authenticated or not understood is dropped and counted.
func (l *Listener) receive(payload string) {
	b, err := l.signer.open(payload)
	if err != nil {
		reason := metrics.RejectMAC
		if err == errMalformed {
			reason = metrics.RejectMalformed
		}
		l.deps.Metrics.DoorbellRejected(reason)
		l.logger.Warn("cluster: doorbell dropped", "reason", reason)
		return
	}
	if b.Origin == l.origin {
		return // delivered here by Publish
	}
	oldest := l.now().Add(-staleAfter).UnixNano()
	changes := make([]notify.Change, 0, len(b.Changes))
	for _, r := range b.Changes {
		if r.At < oldest {
			// A doorbell heard again (replayed by someone who recorded
			// the channel) or very late: what it announced is in the
			// database, and the seqs repair what it would have delivered.
			l.deps.Metrics.DoorbellRejected(metrics.RejectStale)
			continue
		}
		if r.Kind == notify.ChangeSession || l.receiver.Wants(r.User) {
			changes = append(changes, r.change())
		}
	}
	if len(changes) > 0 {
		l.inbox.put(changes)
	}
}

// readBack fills in what the changes name: the notifications of new and
// updated ones (one query; a row deleted since stays without content, so
// its seq still counts and its deletion follows), the events from their
// rows, and keeps a session revocation only if the session is gone from
// the database (a doorbell never closes a live session's sockets).
func (l *Listener) readBack(ctx context.Context, changes []notify.Change) ([]notify.Change, error) {
	var ids, sessions []int64
	for _, c := range changes {
		switch c.Kind {
		case notify.ChangeNew, notify.ChangeUpdated:
			ids = append(ids, c.ID)
		case notify.ChangeSession:
			sessions = append(sessions, c.Session)
		}
	}
	rows := make(map[int64]notify.Notification, len(ids))
	if len(ids) > 0 {
		found, err := l.deps.Store.NotificationsByIDs(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("cluster: read back notifications: %w", err)
		}
		for _, n := range found {
			rows[n.ID] = n
		}
	}
	var existing map[int64]bool
	if len(sessions) > 0 {
		var err error
		if existing, err = l.deps.Store.ExistingSessions(ctx, sessions); err != nil {
			return nil, fmt.Errorf("cluster: check sessions: %w", err)
		}
	}
	out := make([]notify.Change, 0, len(changes))
	for _, c := range changes {
		switch c.Kind {
		case notify.ChangeNew, notify.ChangeUpdated:
			if n, ok := rows[c.ID]; ok && n.UserID == c.User {
				c.Notification = &n
			}
		case notify.ChangeSession:
			if existing[c.Session] {
				continue
			}
		case notify.ChangeEvent:
			if !l.readEvent(ctx, &c) {
				continue
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// readEvent fills in an event from its row. Events are live only: one
// that cannot be read (swept, or the database failing) is logged and
// dropped, and no catch-up can bring it back.
func (l *Listener) readEvent(ctx context.Context, c *notify.Change) bool {
	uid, e, err := l.deps.Store.ClusterEvent(ctx, c.ID)
	if err != nil || uid != c.User {
		l.logger.Warn("cluster: stored event not delivered", "user_id", c.User, "event_id", c.ID, "error", err)
		return false
	}
	c.Event = &e
	return true
}
