package notify

import (
	"context"
	"time"
)

// Broker carries committed changes to the sockets of every instance that
// holds sockets of their users. It is chosen once, at start-up, from
// cluster.broker, and given to NewService: the Service persists, then
// publishes through it, and never asks which broker it has.
//
//   - local (one process): Publish hands the frames to this instance's hub.
//   - postgres: Publish delivers here at once and rings an authenticated
//     doorbell (NOTIFY after commit) that the other instances read back.
//   - nats: Publish delivers here at once and sends the sealed change on a
//     subject of its user.
//
// The cluster brokers are at most once: they run every change they receive
// through a Receiver, which drops duplicates by Change.Seq and repairs a
// gap from the database before delivering anything newer.
type Broker interface {
	// Publish hands changes that were just committed (or live events and
	// revoked sessions, which are not sequenced) to the sockets of their
	// users on every instance. Changes of one user come in Seq order, and
	// the Service calls Publish for one user at a time (its user locks), so
	// a broker that delivers here before it returns keeps per-user order.
	// It must not block on the network for long: a failure to reach other
	// instances is repaired there from the database (gap or audit), so an
	// error is only logged by the caller.
	Publish(ctx context.Context, changes []Change) error

	// Run receives from other instances until ctx ends, then returns nil;
	// an error means it cannot run at all (the process stops). The local
	// broker's Run just waits for ctx.
	Run(ctx context.Context) error

	// Ready fails with EUNAVAILABLE when this instance's sockets are not
	// being kept up to date: the broker is disconnected, or the delivery
	// lag (now minus the commit time of the oldest change received and not
	// yet handed to the sockets) exceeds cluster.max_listener_lag. /readyz
	// answers 503 then.
	Ready(ctx context.Context) error

	// Watch is called when the first socket of userID opens on this
	// instance, after it is registered in the hub and before its hello
	// reads the database. When it returns nil, every change of userID
	// published from then on, by any instance, reaches this instance (a
	// NATS broker subscribes to the user's subject and flushes). An error
	// fails the socket's hello (1013, try again). The Service calls Watch
	// and Unwatch of one user one at a time, never both at once, and a
	// second socket of the user waits for the first one's Watch.
	Watch(ctx context.Context, userID int64) error

	// Unwatch is called when the last socket of userID on this instance
	// has closed. It must not block (it runs under the Service's watch
	// lock); it also forgets the user's Seq.
	Unwatch(userID int64)

	// Seen tells the broker that a socket of userID read the database at
	// seq (users.seq, read with the newest notification id in the hello):
	// every change up to seq is in what that socket was sent. The receiver
	// starts the user's sequence there if it does not track it yet.
	Seen(userID, seq int64)

	// Local reports whether every change of a user reaches this
	// instance's hub from this process, through Hub.Publish, with nothing
	// to Watch. A socket may then read its position before it registers,
	// in the statement that reads its session, and prove it current with
	// the hub's marks (Hub.ChangedSince). The cluster brokers answer
	// false: a change that arrives before Watch, or for a user without a
	// socket here, never reaches the hub, so their sockets read after
	// Watch.
	Local() bool
}

// Position is where a user stands at one moment, read in one statement:
// the newest notification id, the change sequence (users.seq) and the
// unread count. A socket's hello goes live at Newest, starts the
// receiver's sequence of the user at Seq (Broker.Seen) and shows Unread.
type Position struct {
	Newest, Seq, Unread int64
}

// ChangeKind says what a Change is.
type ChangeKind string

// The kinds of change. Seq is set on every kind but ChangeEvent, which is
// live only (never stored), and ChangeSession, which is checked against
// the database (a revoked session no longer exists) wherever it acts.
const (
	ChangeNew     ChangeKind = "new"      // Notification created; Unread after it
	ChangeUpdated ChangeKind = "updated"  // Notification read or unread; Unread
	ChangeDeleted ChangeKind = "deleted"  // notification ID deleted; Unread
	ChangeReadAll ChangeKind = "read_all" // notifications up to UpTo (nil: all) read; Unread
	ChangeSession ChangeKind = "session"  // Session revoked: close its sockets with 4401
	ChangeEvent   ChangeKind = "event"    // live Event for User
)

// Change is one committed change that the sockets of User must see, or a
// live event, or a revoked session. The writing instance builds it from
// what its transaction returned; a broker carries it (whole, sealed, on
// NATS; as an authenticated doorbell of ids and counts on Postgres, the
// receiver reading the content back).
type Change struct {
	Kind ChangeKind `json:"k"`
	User int64      `json:"u"`
	// Seq is users.seq after this change, assigned in the writing
	// transaction under the user's row lock: per user, consecutive
	// changes have consecutive seqs. 0 for ChangeEvent, and for
	// ChangeSession (not sequenced: see the kinds).
	Seq int64 `json:"q,omitempty"`
	// At is when the change was committed, on the writer's wall clock:
	// the delivery lag and the publish→socket latency run from it.
	At time.Time `json:"t"`

	Notification *Notification `json:"n,omitempty"`  // ChangeNew, ChangeUpdated
	ID           int64         `json:"id,omitempty"` // ChangeDeleted: the notification id
	Unread       int64         `json:"c,omitempty"`  // the user's unread count after the change
	UpTo         *int64        `json:"up,omitempty"` // ChangeReadAll; nil: every notification
	Session      int64         `json:"s,omitempty"`  // ChangeSession
	Event        *Event        `json:"e,omitempty"`  // ChangeEvent
}

// Frame is the websocket message of c, or ok false for a change that is
// not a frame (ChangeSession closes sockets instead) or lacks its payload.
// A new notification's frame carries At, so the writer measures the
// publish→socket latency from the commit.
func (c Change) Frame() (f Frame, ok bool) {
	switch c.Kind {
	case ChangeNew:
		if c.Notification == nil {
			return Frame{}, false
		}
		f = NotificationFrame(*c.Notification, c.Unread)
		f.At = c.At
	case ChangeUpdated:
		if c.Notification == nil {
			return Frame{}, false
		}
		f = UpdatedFrame(*c.Notification, c.Unread)
	case ChangeDeleted:
		f = DeletedFrame(c.ID, c.Unread)
	case ChangeReadAll:
		f = ReadAllFrame(c.UpTo, c.Unread)
	case ChangeEvent:
		if c.Event == nil {
			return Frame{}, false
		}
		f = EventFrame(*c.Event)
	default:
		return Frame{}, false
	}
	return f, true
}

// Apply hands c to the sockets of this instance's hub: its frame to the
// user's sockets, or, for a revoked session, a 4401 close of that
// session's sockets. It returns how many sockets it reached. The local
// broker and the Receiver deliver through it.
func (h *Hub) Apply(c Change) int {
	if c.Kind == ChangeSession {
		return h.CloseSession(c.Session, CloseUnauthorized, "session revoked")
	}
	f, ok := c.Frame()
	if !ok {
		return 0
	}
	return h.Publish(c.User, f)
}
