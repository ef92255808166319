package notify

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// Defaults of ReceiverConfig.
const (
	DefaultGapWait = 100 * time.Millisecond // a change above a gap waits this long for the missing ones
	DefaultAudit   = time.Second            // the users' seqs are compared with the database this often
)

// ReceiverConfig tunes a Receiver; zero durations take the defaults.
type ReceiverConfig struct {
	// GapWait is how long a change received above a gap in its user's
	// sequence waits for the missing ones (another instance's NOTIFY may
	// simply arrive later) before the user's sockets are caught up from
	// the database (100 ms).
	GapWait time.Duration
	// Audit is how often the seqs of the users with sockets here are read
	// from the database: a user whose last change never arrived (tail
	// loss) is caught up at the second audit that finds it behind (1 s).
	Audit time.Duration
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
	metrics *Metrics
	now     func() time.Time

	mu    sync.Mutex
	users map[int64]*sequence
	wake  chan struct{} // a change is held: Run looks sooner
}

// sequence is the state of one user with sockets here.
type sequence struct {
	last      int64     // the seq of the last change delivered (or caught up to)
	held      []Change  // received above last+1, ascending Seq
	heldAt    time.Time // when held became non-empty
	repairing bool      // a catch-up runs: hold everything
	behind    int64     // the audit saw this seq in the database above last; 0: none
	behindAt  time.Time // when it saw it
}

// NewReceiver returns a Receiver that delivers to hub and catches up from
// st. Run it for the repairs and the audit.
func NewReceiver(st CatchUpStore, hub *Hub, cfg ReceiverConfig, logger *slog.Logger, m *Metrics) *Receiver {
	if cfg.GapWait <= 0 {
		cfg.GapWait = DefaultGapWait
	}
	if cfg.Audit <= 0 {
		cfg.Audit = DefaultAudit
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Receiver{
		catchUp: catchUp{store: st, hub: hub, repair: true}, hub: hub, cfg: cfg,
		logger: logger, metrics: m, now: time.Now,
		users: make(map[int64]*sequence), wake: make(chan struct{}, 1),
	}
}

// Seen starts userID's sequence at seq, the value a socket's hello read
// with the newest notification id, unless it is already followed (by an
// earlier socket of the user: its position stays, and the changes in
// flight reach both sockets).
func (r *Receiver) Seen(userID, seq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.users[userID] == nil {
		r.users[userID] = &sequence{last: seq}
	}
}

// Forget ends userID's sequence: its last socket here has closed.
func (r *Receiver) Forget(userID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users, userID)
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
	st := r.users[c.User]
	if c.Seq == 0 || st == nil {
		// Not sequenced, or a user whose first socket is still reading
		// its hello: that socket holds frames until it goes live and
		// drops what its reads covered.
		r.hub.Apply(c)
		return
	}
	switch {
	case st.repairing:
		r.hold(st, c)
	case c.Seq <= st.last:
		r.metrics.DuplicateDropped()
	case c.Seq == st.last+1:
		r.hub.Apply(c)
		st.last = c.Seq
		r.drain(st)
	default:
		r.hold(st, c)
	}
}

// hold keeps c, above a gap, in Seq order (a duplicate of a held change is
// dropped), and wakes Run to repair the gap if it lasts.
func (r *Receiver) hold(st *sequence, c Change) {
	i, found := slices.BinarySearchFunc(st.held, c.Seq, func(h Change, seq int64) int { return cmp.Compare(h.Seq, seq) })
	if found {
		r.metrics.DuplicateDropped()
		return
	}
	if len(st.held) == 0 {
		st.heldAt = r.now()
	}
	st.held = slices.Insert(st.held, i, c)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// drain delivers the held changes that follow last, and drops those at
// or below it.
func (r *Receiver) drain(st *sequence) {
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
			r.metrics.DuplicateDropped()
		}
	}
	st.held = slices.Delete(st.held, 0, k)
	if len(st.held) == 0 {
		st.heldAt = time.Time{}
	}
}

// CatchUpAll catches up every user with a socket here from the database:
// what a broker does once it receives again after a disconnection.
func (r *Receiver) CatchUpAll(ctx context.Context) error {
	return r.repair(ctx, r.hub.UserIDs(), RepairReconnect)
}

// repair catches users up from the database, holding their changes
// meanwhile, then resumes each at the seq read there: a held change at or
// below it is covered by the catch-up and dropped, except the one at
// exactly that seq, whose frame is the current state (a deleted or
// updated notification) and is delivered; the ones above follow if they
// are next.
func (r *Receiver) repair(ctx context.Context, users []int64, cause string) error {
	if len(users) == 0 {
		return nil
	}
	slices.Sort(users)
	r.mu.Lock()
	for _, uid := range users {
		st := r.users[uid]
		if st == nil {
			// A socket between its hello's read and Seen: follow the user
			// from this catch-up's seq, holding its changes meanwhile, so
			// none is delivered ahead of the rows published here.
			st = &sequence{}
			r.users[uid] = st
		}
		st.repairing = true
	}
	r.mu.Unlock()

	done, err := r.catchUp.run(ctx, users, nil)

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, uid := range users {
		st := r.users[uid]
		if st == nil {
			continue
		}
		st.repairing = false
		if err != nil {
			continue // held: the next round tries again
		}
		if seq, ok := done.seqs[uid]; ok && seq > st.last {
			st.last = seq
			if i := slices.IndexFunc(st.held, func(h Change) bool { return h.Seq == seq }); i >= 0 {
				r.hub.Apply(st.held[i])
			}
		}
		st.behind = 0
		r.drain(st)
	}
	if err != nil {
		r.logger.Warn("cluster: catch-up failed", "cause", cause, "users", len(users), "error", err)
		return err
	}
	r.metrics.Repaired(cause, len(users))
	r.logger.Info("cluster: caught up from the database", "cause", cause, "users", len(users), "rows", done.rows)
	return nil
}

// Run repairs the gaps that last GapWait and audits every Audit until ctx
// ends. The broker reports the lag (ReportLag), since it alone knows what
// waits before the receiver.
func (r *Receiver) Run(ctx context.Context) {
	tick := time.NewTicker(r.cfg.GapWait / 2)
	defer tick.Stop()
	lastAudit := r.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.wake:
		}
		if users := r.gaps(); len(users) > 0 {
			_ = r.repair(ctx, users, RepairGap) // logged; retried next round
		}
		if r.now().Sub(lastAudit) < r.cfg.Audit {
			continue
		}
		lastAudit = r.now()
		if err := r.audit(ctx); err != nil && ctx.Err() == nil {
			r.logger.Warn("cluster: audit failed", "error", err)
		}
	}
}

// ReportLag records lag() in notifyd_cluster_delivery_lag_seconds every
// interval until ctx ends, and logs it each time it is not 0: a broker
// falling behind is never silent.
func ReportLag(ctx context.Context, interval time.Duration, lag func() time.Duration, logger *slog.Logger, m *Metrics) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.DeliveryLag(0)
			return
		case <-t.C:
		}
		d := lag()
		m.DeliveryLag(d)
		if d > 0 {
			logger.Info("cluster: delivery lag", "lag", d.Round(time.Millisecond))
		}
	}
}

// gaps returns the users whose held changes have waited GapWait.
func (r *Receiver) gaps() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var users []int64
	for uid, st := range r.users {
		if len(st.held) > 0 && !st.repairing && now.Sub(st.heldAt) >= r.cfg.GapWait {
			users = append(users, uid)
		}
	}
	return users
}

// audit reads the seqs of the users followed here, in one batched query,
// and catches up those the database has been ahead of since the previous
// audit (a change in flight arrives well within one interval; one that
// has not was lost, and no later change will reveal the gap). It also
// closes the sockets of sessions deleted without this instance hearing of
// it (a lost revocation).
func (r *Receiver) audit(ctx context.Context) error {
	r.mu.Lock()
	users := slices.Collect(maps.Keys(r.users))
	r.mu.Unlock()
	if len(users) == 0 {
		return nil
	}
	seqs, err := r.catchUp.store.UserSeqs(ctx, users)
	if err != nil {
		return err
	}
	var behind []int64
	r.mu.Lock()
	now := r.now()
	for _, uid := range users {
		st := r.users[uid]
		if st == nil || st.repairing {
			continue
		}
		if r.hub.UserCount(uid) == 0 {
			delete(r.users, uid) // followed by a repair after its last socket closed
			continue
		}
		seq := seqs[uid]
		switch {
		case seq <= st.last:
			st.behind = 0
		case st.behind != 0 && st.last < st.behind:
			behind = append(behind, uid)
		default:
			st.behind, st.behindAt = seq, now
		}
	}
	r.mu.Unlock()
	if err := r.catchUp.closeRevoked(ctx, r.hub.SessionIDs()); err != nil {
		return err
	}
	return r.repair(ctx, behind, RepairAudit)
}

// Lag is now minus the commit time of the oldest change received and not
// yet handed to the sockets (held above a gap, or found missing by the
// audit: then since the audit saw it); 0 when nothing waits.
func (r *Receiver) Lag() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var lag time.Duration
	for _, st := range r.users {
		if len(st.held) > 0 {
			// The commit time, or when it arrived if the writer gave none.
			at := st.held[0].At
			if at.IsZero() || at.After(st.heldAt) {
				at = st.heldAt
			}
			lag = max(lag, now.Sub(at))
		}
		if st.behind != 0 {
			lag = max(lag, now.Sub(st.behindAt))
		}
	}
	return lag
}
