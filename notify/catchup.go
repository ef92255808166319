package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// What a catch-up needs from the hub: which users have sockets, from which
// id each must be sent what it missed, and which sessions they belong to;
// and the one catch-up routine (catchUp.run).
//
// A socket that is still replaying has no cursor yet. Its owner reads the
// user's newest id right after Register and records it with SetFloor: the
// cursor GoLive gets later is never below it, so catching up from the floor
// loses nothing (GoLive drops what the replay already sent).

// SetFloor records id, the user's newest notification id read after
// Register and before the backlog, as a lower bound of the cursor GoLive
// will be given.
//
// It returns false, recording nothing, when a cluster catch-up ran since
// Register and skipped this socket because its floor was not known yet:
// rows committed while the broker was not receiving may then be missing
// from what the caller read. The caller must read the newest id again —
// that read starts after the broker receives again, so every later change
// reaches it — and call SetFloor again.
func (s *Subscriber) SetFloor(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.missed {
		s.missed = false
		return false
	}
	s.floor, s.floorSet = id, true
	return true
}

// catchUpFloor returns the id above which a catch-up must send
// notifications to s: its cursor once live, its floor while replaying.
// When neither is known, s is marked missed (see SetFloor) and ok is false.
func (s *Subscriber) catchUpFloor() (floor int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return 0, false
	case s.live:
		return s.cursor, true
	case s.floorSet:
		return s.floor, true
	}
	s.missed = true
	return 0, false
}

// catchUpFloorsOf returns, for every user of userIDs with an open socket
// whose position is known, the lowest id among those sockets: a catch-up
// publishes the user's notifications above it, and each socket drops what
// it already has. A socket whose position is not known yet is left out and
// told so (see SetFloor).
func (h *Hub) catchUpFloorsOf(userIDs []int64) map[int64]int64 {
	var subs []*Subscriber
	for _, uid := range userIDs {
		subs = append(subs, h.snapshot(h.users, uid)...)
	}
	return lowestFloors(subs)
}

func lowestFloors(subs []*Subscriber) map[int64]int64 {
	floors := make(map[int64]int64)
	for _, s := range subs {
		f, ok := s.catchUpFloor()
		if !ok {
			continue
		}
		if old, seen := floors[s.UserID]; !seen || f < old {
			floors[s.UserID] = f
		}
	}
	return floors
}

// SessionIDs returns the sessions that have an open socket.
func (h *Hub) SessionIDs() []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Collect(maps.Keys(h.sessions))
}

// CloseUser closes every socket of userID for why and returns how many
// there were.
func (h *Hub) CloseUser(userID int64, why CloseReason, text string) int {
	h.marks.touch(userID) // a socket registering now must not miss it
	subs := h.snapshot(h.users, userID)
	for _, s := range subs {
		s.Close(why, text)
	}
	return len(subs)
}

// QueueSize returns how many frames a socket may have waiting
// (ws.send_queue): more frames than that for one socket close it.
func (h *Hub) QueueSize() int { return h.cfg.SendQueue }

// PublishCatchUp publishes rows, read above the catch-up floors of their
// users (ascending, at most limit+1 per user), each with its user's unread
// count from counts, and returns how many it published and which users
// overflowed; every socket drops
// what it already has. A user with more than limit rows has its sockets
// closed with CloseQueueFull instead: they could not take them all, and the
// clients resume with after_id, as after any full queue.
func (h *Hub) PublishCatchUp(rows []Notification, counts map[int64]int64, limit int) (sent int, overflowed map[int64]bool) {
	perUser := make(map[int64]int)
	for _, n := range rows {
		perUser[n.UserID]++
	}
	overflowed = make(map[int64]bool)
	for uid, k := range perUser {
		if k > limit {
			overflowed[uid] = true
		}
	}
	for _, n := range rows {
		if overflowed[n.UserID] {
			continue
		}
		h.Publish(n.UserID, NotificationFrame(n, counts[n.UserID]))
		sent++
	}
	for uid := range overflowed {
		h.CloseUser(uid, CloseQueueFull, "too many missed notifications")
	}
	h.cfg.Observer.CatchUpRows(sent)
	return sent, overflowed
}

// CatchUpStore is what a catch-up reads (store.Store).
type CatchUpStore interface {
	// NotificationsAfter returns each user's notifications above
	// after[user], at most limit per user, ascending by id.
	NotificationsAfter(ctx context.Context, after map[int64]int64, limit int) ([]Notification, error)
	// UnreadCounts returns the unread count of each of userIDs.
	UnreadCounts(ctx context.Context, userIDs []int64) (map[int64]int64, error)
	// MissingSessions returns those of ids that are no longer sessions.
	MissingSessions(ctx context.Context, ids []int64) ([]int64, error)
	// UserSeqs returns the change sequence (users.seq) of each of userIDs
	// that exists.
	UserSeqs(ctx context.Context, userIDs []int64) (map[int64]int64, error)
	// SeqsAhead returns, of the users in last, those whose seq is above
	// last[user], with that seq.
	SeqsAhead(ctx context.Context, last map[int64]int64) (map[int64]int64, error)
}

// catchUp is the one catch-up routine: the settling of inserts with an
// unknown outcome (settle.go) and the repair of what a cluster broker
// missed (Receiver) both bring sockets up to date with it.
type catchUp struct {
	store CatchUpStore
	hub   *Hub
	// repair: the receiver's catch-up of changes a broker lost, which may
	// be revocations and read, unread or delete changes, so it also closes
	// the sockets of deleted sessions and sends the fresh unread count.
	// Settling misses only inserts, whose frames carry the count.
	repair bool
}

// caughtUp is what a catch-up did.
type caughtUp struct {
	seqs map[int64]int64 // each user's seq, read before anything else
	rows int             // notifications published
}

// run brings the sockets of users up to date from the database, except
// the notifications in skip (the caller publishes those itself):
//
//  1. the users' seqs, read first, so that every change up to them is in
//     what the reads below see (a receiver resumes each user from there);
//  2. with repair, the sockets of deleted sessions are closed (4401);
//  3. the notifications above the lowest cursor among each user's sockets
//     are published in id order (each socket drops what it has);
//  4. with repair, the fresh unread count, since read, unread and delete
//     changes are not replayed one by one.
//
// A user who missed more than a socket's queue holds has its sockets
// closed with 4008 instead: the clients resume with after_id, as after any
// full queue. The counts are read even when no socket is open, so that
// success shows the database answers.
func (c catchUp) run(ctx context.Context, users []int64, skip map[int64]bool) (caughtUp, error) {
	seqs, err := c.store.UserSeqs(ctx, users)
	if err != nil {
		return caughtUp{}, fmt.Errorf("catch-up seqs: %w", err)
	}
	if c.repair {
		if err := c.closeRevoked(ctx, c.hub.sessionIDsOf(users)); err != nil {
			return caughtUp{}, err
		}
	}
	floors := c.hub.catchUpFloorsOf(users)
	limit := c.hub.QueueSize()
	var rows []Notification
	if len(floors) > 0 {
		if rows, err = c.store.NotificationsAfter(ctx, floors, limit+1+len(skip)); err != nil {
			return caughtUp{}, fmt.Errorf("catch-up: %w", err)
		}
	}
	// Read after the rows, so that every row published is counted.
	counts, err := c.store.UnreadCounts(ctx, users)
	if err != nil {
		return caughtUp{}, fmt.Errorf("catch-up counts: %w", err)
	}
	rows = slices.DeleteFunc(rows, func(n Notification) bool { return skip[n.ID] })
	sent, overflowed := c.hub.PublishCatchUp(rows, counts, limit)
	for uid := range floors {
		if c.repair && !overflowed[uid] {
			c.hub.Publish(uid, UnreadCountFrame(counts[uid]))
		}
	}
	return caughtUp{seqs: seqs, rows: sent}, nil
}

// closeRevoked closes the sockets of those of the sessions ids that were
// deleted (logged out) without this instance closing them.
func (c catchUp) closeRevoked(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	missing, err := c.store.MissingSessions(ctx, ids)
	if err != nil {
		return fmt.Errorf("catch-up sessions: %w", err)
	}
	for _, id := range missing {
		c.hub.CloseSession(id, CloseUnauthorized, "session revoked")
	}
	return nil
}

// sessionIDsOf returns the sessions of the open sockets of users.
func (h *Hub) sessionIDsOf(users []int64) []int64 {
	var ids []int64
	for _, uid := range users {
		for _, s := range h.snapshot(h.users, uid) {
			if s.SessionID != 0 && !slices.Contains(ids, s.SessionID) {
				ids = append(ids, s.SessionID)
			}
		}
	}
	return ids
}

// UserIDs returns the users with an open socket here.
func (h *Hub) UserIDs() []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Collect(maps.Keys(h.users))
}
