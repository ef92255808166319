package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/notifyd/notifyd/notify"
)

// handle delivers one doorbell to this instance's sockets. It fails only
// when rows it must send could not be read; the caller then catches up.
// A payload it cannot parse (a newer instance's kind) is logged and
// skipped.
func (l *Listener) handle(ctx context.Context, payload string) error {
	d, err := notify.ParseDoorbell(payload)
	if err != nil {
		l.logger.Warn("cluster: doorbell skipped", "error", err)
		return nil
	}
	hub := l.deps.Hub
	switch d.Kind {
	case notify.BellNew:
		return l.deliverNew(ctx, d.Rows)
	case notify.BellUpdated:
		return l.deliverUpdated(ctx, d)
	case notify.BellDeleted:
		hub.Publish(d.User, notify.DeletedFrame(d.ID, d.Unread))
	case notify.BellReadAll:
		hub.Publish(d.User, notify.ReadAllFrame(d.UpTo, d.Unread))
	case notify.BellSession:
		hub.CloseSession(d.Session, notify.CloseUnauthorized, "session revoked")
	case notify.BellEvent:
		hub.Publish(d.User, notify.EventFrame(*d.Event))
	case notify.BellEventRow:
		l.deliverStoredEvent(ctx, d)
	}
	return nil
}

// deliverNew reads the new rows of users with a socket here, in one
// query, and publishes them in id order with the unread count each
// transaction read. A user who opens a socket after the check reads these
// rows in its backlog: they were committed before the doorbell arrived.
func (l *Listener) deliverNew(ctx context.Context, rows []notify.BellRow) error {
	hub := l.deps.Hub
	unread := make(map[int64]int64, len(rows))
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		if hub.UserCount(r.User) > 0 {
			ids = append(ids, r.ID)
			unread[r.ID] = r.Unread
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := l.deps.Store.NotificationsByIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("cluster: new notifications: %w", err)
	}
	// A row deleted since its commit is missing here; its deletion
	// doorbell follows.
	for _, n := range found {
		f := notify.NotificationFrame(n, unread[n.ID])
		// The publish→socket latency runs from the row's creation on the
		// publishing instance (clocks in sync, as NTP keeps them), so it
		// includes the doorbell's trip. Catch-up frames measure nothing.
		f.At = n.CreatedAt
		hub.Publish(n.UserID, f)
	}
	return nil
}

// deliverUpdated reads the changed row and publishes it. The row is read
// after the change, so it may already carry a later change: that one's
// doorbell follows, and the last frame is the current state.
func (l *Listener) deliverUpdated(ctx context.Context, d notify.Doorbell) error {
	if l.deps.Hub.UserCount(d.User) == 0 {
		return nil
	}
	found, err := l.deps.Store.NotificationsByIDs(ctx, []int64{d.ID})
	if err != nil {
		return fmt.Errorf("cluster: updated notification: %w", err)
	}
	if len(found) == 1 && found[0].UserID == d.User {
		l.deps.Hub.Publish(d.User, notify.UpdatedFrame(found[0], d.Unread))
	}
	return nil
}

// deliverStoredEvent reads an event too large for a payload. Events are
// live only: one that cannot be read is logged and dropped, and no
// catch-up can bring it back.
func (l *Listener) deliverStoredEvent(ctx context.Context, d notify.Doorbell) {
	if l.deps.Hub.UserCount(d.User) == 0 {
		return
	}
	uid, e, err := l.deps.Store.ClusterEvent(ctx, d.ID)
	if err != nil {
		l.logger.Warn("cluster: stored event not delivered", "user_id", d.User, "event_id", d.ID, "error", err)
		return
	}
	l.deps.Hub.Publish(uid, notify.EventFrame(e))
}

// catchUp sends every socket what was committed while doorbells were not
// being delivered: the notifications above the lowest cursor among each
// user's sockets (each socket drops those it has), then the fresh unread
// count, since read, unread and delete changes are not replayed one by
// one. It also closes the sockets of sessions logged out meanwhile. A
// user who missed more than a socket's queue holds has its sockets closed
// with 4008 instead: the clients resume with after_id, as after any full
// queue.
func (l *Listener) catchUp(ctx context.Context) error {
	hub := l.deps.Hub
	if err := l.closeRevoked(ctx); err != nil {
		return err
	}
	floors := hub.CatchUpFloors()
	if len(floors) == 0 {
		return nil
	}
	limit := hub.QueueSize()
	rows, err := l.deps.Store.NotificationsAfter(ctx, floors, limit+1)
	if err != nil {
		return fmt.Errorf("cluster: catch-up: %w", err)
	}
	users := slices.Sorted(maps.Keys(floors))
	counts, err := l.deps.Store.UnreadCounts(ctx, users)
	if err != nil {
		return fmt.Errorf("cluster: catch-up counts: %w", err)
	}
	sent, overflowed := hub.PublishCatchUp(rows, counts, limit)
	for _, uid := range users {
		if !overflowed[uid] {
			hub.Publish(uid, notify.UnreadCountFrame(counts[uid]))
		}
	}
	l.logger.Info("cluster: caught up", "users", len(users), "rows", sent)
	return nil
}

// closeRevoked closes the sockets of sessions deleted (logged out) while
// their doorbells could not be heard.
func (l *Listener) closeRevoked(ctx context.Context) error {
	ids := l.deps.Hub.SessionIDs()
	if len(ids) == 0 {
		return nil
	}
	existing, err := l.deps.Store.ExistingSessions(ctx, ids)
	if err != nil {
		return fmt.Errorf("cluster: catch-up sessions: %w", err)
	}
	for _, id := range ids {
		if !existing[id] {
			l.deps.Hub.CloseSession(id, notify.CloseUnauthorized, "session revoked")
		}
	}
	return nil
}
