package notify

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// ReceiverConfig tunes a Receiver (cluster.gap_wait,
// cluster.audit_interval and cluster.session_audit_interval; the defaults
// are config.Default's). All must be positive.
type ReceiverConfig struct {
	// GapWait is how long a change received above a gap in its user's
	// sequence waits for the missing ones (another instance's NOTIFY may
	// simply arrive later) before the user's sockets are caught up from
	// the database.
	GapWait time.Duration
	// Audit is how often the seqs of the users with sockets here are read
	// from the database: a user whose last change never arrived (tail
	// loss) is caught up at the second audit that finds it behind.
	Audit time.Duration
	// SessionAudit is how often the sessions with sockets here are
	// checked against the database: a socket whose session was deleted
	// without this instance hearing of it (a lost revocation) is closed
	// within it. Revocations normally arrive on the bus at once; this is
	// the safety net, so it may be slower than Audit.
	SessionAudit time.Duration
}

// Receiver is the receiving side of the cluster brokers (postgres, nats):
// every change a broker receives, and every change this instance publishes
// itself, goes through Deliver, which per user
//
//   - drops a change whose Seq was already delivered (a duplicate, or this
//     instance's own echo),
//   - delivers the next one, and
//   - holds one above a gap; when the missing changes do not come within
//     GapWait, catches the user's sockets up from the database (the one
//     catch-up routine: rows above their cursors, the fresh unread count,
//     revoked sessions), resumes the user at the seq read there, and
//     delivers nothing newer before.
//
// A user's sequence starts when its first socket's hello reads the
// database (Seen) and ends when its last socket closes (Forget). Run's
// audit catches a lost last change. With this, an at-most-once bus is
// safe: a message lost, repeated or reordered costs a database read, not
// a missed or doubled frame.
type Receiver struct {
	catchUp catchUp
	hub     *Hub
	cfg     ReceiverConfig
	logger  *slog.Logger
	obs     Observer
	now     func() time.Time

	mu    sync.Mutex
	users map[int64]*sequence
	// waiting holds the sequences of the users with changes held above
	// a gap, so that Run's look for gaps every GapWait/2 reads those few
	// rather than every user with a socket here.
	waiting map[int64]*sequence
}

// sequence is the state of one user with sockets here.
type sequence struct {
	// started: last is known (Seen, or a catch-up). Before, the user's
	// first socket is still reading its hello: changes go straight to the
	// hub (the socket holds them until it goes live and drops what its
	// reads covered), and their seqs are kept in early.
	started   bool
	early     []int64
	last      int64     // the seq of the last change delivered (or caught up to)
	held      []Change  // received above last+1, ascending Seq
	heldAt    time.Time // when held became non-empty
	repairing bool      // a catch-up runs: hold everything
	behind    int64     // the audit saw this seq in the database above last; 0: none
	behindAt  time.Time // when it saw it
}

// NewReceiver returns a Receiver that delivers to hub and catches up from
// st. Run it for the repairs and the audit.
func NewReceiver(st CatchUpStore, hub *Hub, cfg ReceiverConfig, logger *slog.Logger, obs Observer) *Receiver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Receiver{
		catchUp: catchUp{store: st, hub: hub, repair: true}, hub: hub, cfg: cfg,
		logger: logger, obs: observerOr(obs), now: time.Now,
		users: make(map[int64]*sequence), waiting: make(map[int64]*sequence),
	}
}

// Seen starts userID's sequence at seq, the value a socket's hello read
// with the newest notification id, unless it is already followed (by an
// earlier socket of the user: its position stays, and the changes in
// flight reach both sockets).
//
// The changes delivered before it (early) that follow seq without a hole
// count as delivered; one after a hole is left for the gap repair, which
// a later change or the audit starts.
func (r *Receiver) Seen(userID, seq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.users[userID]
	if st == nil {
		st = &sequence{}
		r.users[userID] = st
	}
	if st.started {
		return
	}
	st.started, st.last = true, seq
	slices.Sort(st.early)
	for _, e := range st.early {
		if e == st.last+1 {
			st.last = e
		} else if e > st.last {
			break
		}
	}
	st.early = nil
}

// Forget ends userID's sequence: its last socket here has closed.
func (r *Receiver) Forget(userID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users, userID)
	delete(r.waiting, userID)
}

// Wants reports whether changes of userID matter here: it has a socket.
// A broker skips reading back the content of the others.
func (r *Receiver) Wants(userID int64) bool { return r.hub.UserCount(userID) > 0 }

// Deliver hands changes to the sockets, in the order given, per user in
// Seq order: see Receiver. Changes without a Seq (events, revoked
// sessions) are delivered at once. It never blocks on the database.
func (r *Receiver) Deliver(changes []Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range changes {
		r.deliverLocked(c)
	}
}

func (r *Receiver) deliverLocked(c Change) {
	if c.Seq == 0 {
		r.hub.Apply(c) // not sequenced
		return
	}
	st := r.users[c.User]
	if st == nil && r.hub.UserCount(c.User) > 0 {
		st = &sequence{}
		r.users[c.User] = st
	}
	if st == nil {
		return // no socket here
	}
	if !st.started && !st.repairing {
		if slices.Contains(st.early, c.Seq) {
			r.obs.DuplicateDropped()
			return
		}
		r.hub.Apply(c)
		st.early = append(st.early, c.Seq)
		return
	}
	switch {
	case st.repairing:
		r.hold(st, c)
	case c.Seq <= st.last:
		r.obs.DuplicateDropped()
	case c.Seq == st.last+1:
		r.hub.Apply(c)
		st.last = c.Seq
		r.drain(c.User, st)
	default:
		r.hold(st, c)
	}
}

// hold keeps c, above a gap, in Seq order (a duplicate of a held change is
// dropped), for Run to repair the gap if it lasts GapWait. It does not
// wake Run: the gap cannot be due before GapWait, and Run looks every
// GapWait/2 anyway (waking it on every held change cost a look at every
// held user, under the lock Deliver needs, for nothing).
func (r *Receiver) hold(st *sequence, c Change) {
	i, found := slices.BinarySearchFunc(st.held, c.Seq, func(h Change, seq int64) int { return cmp.Compare(h.Seq, seq) })
	if found {
		r.obs.DuplicateDropped()
		return
	}
	if len(st.held) == 0 {
		st.heldAt = r.now()
		r.waiting[c.User] = st
	}
	st.held = slices.Insert(st.held, i, c)
}

// drain delivers the held changes of userID that follow last, and drops
// those at or below it.
func (r *Receiver) drain(userID int64, st *sequence) {
	k := 0
	for ; k < len(st.held); k++ {
		h := st.held[k]
		if h.Seq > st.last+1 {
			break
		}
		if h.Seq == st.last+1 {
			r.hub.Apply(h)
			st.last = h.Seq
		} else {
			r.obs.DuplicateDropped()
		}
	}
	st.held = slices.Delete(st.held, 0, k)
	if len(st.held) == 0 {
		st.heldAt = time.Time{}
		delete(r.waiting, userID)
	}
}
