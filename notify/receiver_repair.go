package notify

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// The repairs of a Receiver: a gap that lasts, a lost last change found by
// the audit, everything after a reconnect; and the delivery lag.

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
			st = &sequence{}
			r.users[uid] = st
		}
		// A socket still in its hello (not started) is followed from this
		// catch-up's seq too, its changes held meanwhile, so none is
		// delivered ahead of the rows published here.
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
		if !st.started {
			st.started, st.last, st.early = true, 0, nil
		}
		if seq, ok := done.seqs[uid]; ok && seq > st.last {
			st.last = seq
			if i := slices.IndexFunc(st.held, func(h Change) bool { return h.Seq == seq }); i >= 0 {
				r.hub.Apply(st.held[i])
			}
		}
		st.behind = 0
		r.drain(uid, st)
	}
	if err != nil {
		r.logger.Warn("cluster: catch-up failed", "cause", cause, "users", len(users), "error", err)
		return err
	}
	r.obs.Repaired(cause, len(users))
	r.logger.Info("cluster: caught up from the database", "cause", cause, "users", len(users), "rows", done.rows)
	return nil
}

// Run repairs the gaps that last GapWait, audits the seqs every Audit and
// the sessions every SessionAudit, until ctx ends. The broker reports the
// lag (ReportLag), since it alone knows what waits before the receiver.
func (r *Receiver) Run(ctx context.Context) {
	tick := time.NewTicker(r.cfg.GapWait / 2)
	defer tick.Stop()
	lastAudit, lastSessions := r.now(), r.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if users := r.gaps(); len(users) > 0 {
			_ = r.repair(ctx, users, RepairGap) // logged; retried next round
		}
		if r.now().Sub(lastAudit) >= r.cfg.Audit {
			lastAudit = r.now()
			if err := r.audit(ctx); err != nil && ctx.Err() == nil {
				r.logger.Warn("cluster: audit failed", "error", err)
			}
		}
		if r.now().Sub(lastSessions) >= r.cfg.SessionAudit {
			lastSessions = r.now()
			if err := r.auditSessions(ctx); err != nil && ctx.Err() == nil {
				r.logger.Warn("cluster: session audit failed", "error", err)
			}
		}
	}
}

// ReportLag reports lag() to obs (DeliveryLag; nil: none) every
// interval until ctx ends, and logs it each time it is not 0: a broker
// falling behind is never silent.
func ReportLag(ctx context.Context, interval time.Duration, lag func() time.Duration, logger *slog.Logger, obs Observer) {
	m := observerOr(obs)
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
	for uid, st := range r.waiting {
		if len(st.held) > 0 && !st.repairing && now.Sub(st.heldAt) >= r.cfg.GapWait {
			users = append(users, uid)
		}
	}
	return users
}

// audit asks the database which of the users followed here have a seq
// above the last one delivered, in one statement that returns only those
// (store.SeqsAhead: every user is asked each second, almost none is
// behind), and catches up those the database has been ahead of since the
// previous audit (a change in flight arrives well within one interval;
// one that has not was lost, and no later change will reveal the gap).
func (r *Receiver) audit(ctx context.Context) error {
	r.mu.Lock()
	last := make(map[int64]int64, len(r.users))
	for uid, st := range r.users {
		if st.repairing || !st.started {
			continue
		}
		if r.hub.UserCount(uid) == 0 {
			delete(r.users, uid) // followed by a repair after its last socket closed
			delete(r.waiting, uid)
			continue
		}
		last[uid] = st.last
	}
	r.mu.Unlock()
	if len(last) == 0 {
		return nil
	}
	ahead, err := r.catchUp.store.SeqsAhead(ctx, last)
	if err != nil {
		return err
	}
	var behind []int64
	r.mu.Lock()
	now := r.now()
	for uid := range last {
		st := r.users[uid]
		if st == nil || st.repairing || !st.started {
			continue
		}
		seq, found := ahead[uid]
		switch {
		case !found || seq <= st.last:
			st.behind = 0
		case st.behind != 0 && st.last < st.behind:
			behind = append(behind, uid)
		default:
			st.behind, st.behindAt = seq, now
		}
	}
	r.mu.Unlock()
	return r.repair(ctx, behind, RepairAudit)
}

// auditSessions closes the sockets of the sessions deleted without this
// instance hearing of it (a lost revocation), in one statement that
// returns only those (store.MissingSessions).
func (r *Receiver) auditSessions(ctx context.Context) error {
	return r.catchUp.closeRevoked(ctx, r.hub.SessionIDs())
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
		if st.behind != 0 && st.last < st.behind {
			// Still missing what the audit saw; once delivered, the
			// record waits for the next audit to be cleared but no longer
			// counts.
			lag = max(lag, now.Sub(st.behindAt))
		}
	}
	return lag
}
