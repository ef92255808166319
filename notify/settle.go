package notify

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// Settling inserts whose outcome is unknown (single instance; cluster mode
// rings its doorbell inside the transaction, so a row committed there is
// delivered by the listeners).
//
// When a batch fails because the database stopped answering or the
// connection was lost mid-transaction, its callers get 503, yet the
// database may still commit the rows once it answers again. Nothing pushes
// such a row, and the next notification of that user would move each open
// socket's cursor past it. So every user of a failed batch is marked
// unsettled, and before anything more is pushed to that user, the user's
// sockets are caught up from the database: the rows above the lowest
// cursor among them are published in id order (each socket drops what it
// has), then the new rows. A batch that commits for a user has waited for
// the lock on the user's row, so an earlier transaction holding it is
// settled — committed or rolled back — by then. When no next notification
// comes, a background loop retries the catch-up every settleRetry (see
// settleLoop).
//
// A user is cleared only by a catch-up that started at least settleQuiet
// after an earlier one succeeded: a statement held up in the network may
// reach the database together with the first reads after an outage, and
// must not commit unseen behind a catch-up that ran just before it.

// settleRetry is how often the background loop retries the catch-up of
// unsettled users, and how long after the database answers again a user
// stays unsettled (1 s): a row committed behind a 503 reaches open sockets
// within about a second of the database answering, and a database that
// stays down costs one or two reads a second, each bounded by
// database.query_timeout.
const settleRetry = time.Second

// settleQuiet is how long after a successful catch-up another one must
// start to clear a user (0.5 s, half of settleRetry so that the loop's
// next try clears it): time for statements released with the first
// answers of the database to be settled.
const settleQuiet = settleRetry / 2

// settler is the set of unsettled users and the state of the background
// loop, which runs only while the set is not empty.
type settler struct {
	mu      sync.Mutex
	users   map[int64]unsettled
	running bool
	closed  bool // Close was called: no new loop
	cancel  context.CancelFunc
	stopped chan struct{} // closed when the running loop ends
}

// unsettled is the state of one unsettled user.
type unsettled struct {
	failed   time.Time // when its last insert failed
	answered time.Time // when a catch-up begun after that last succeeded; zero: none yet
}

// unsettle marks userIDs unsettled after a failed batch and starts the
// background loop if it is not running. Call with their stripes locked,
// so that the next batch of these users sees the mark.
func (s *Service) unsettle(userIDs []int64) {
	if s.bell != nil {
		return
	}
	st := &s.settle
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.users == nil {
		st.users = make(map[int64]unsettled)
	}
	now := time.Now()
	for _, id := range userIDs {
		st.users[id] = unsettled{failed: now}
	}
	if st.running || st.closed {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	st.running, st.cancel, st.stopped = true, cancel, make(chan struct{})
	go s.settleLoop(ctx, st.stopped)
}

// settleBeforePush catches up the unsettled users among those of rows, a
// batch just committed, and returns the rows to push: all of them, minus
// those of users whose catch-up failed. Their sockets must not move past
// a row still unseen; the background loop sends those rows later. Call
// with the stripes of the batch's users locked.
func (s *Service) settleBeforePush(rows []Inserted) []Inserted {
	if s.bell != nil {
		return rows
	}
	var users []int64
	s.settle.mu.Lock()
	for _, r := range rows {
		if _, ok := s.settle.users[r.UserID]; ok && !slices.Contains(users, r.UserID) {
			users = append(users, r.UserID)
		}
	}
	s.settle.mu.Unlock()
	if len(users) == 0 {
		return rows
	}
	skip := make(map[int64]bool)
	for _, r := range rows {
		if r.ID != 0 {
			skip[r.ID] = true
		}
	}
	slices.Sort(users)
	if s.settleUsers(context.Background(), users, skip) {
		return rows
	}
	return slices.DeleteFunc(slices.Clone(rows), func(r Inserted) bool {
		return slices.Contains(users, r.UserID)
	})
}

// settleUsers catches up users (sorted), except the rows in skip, which
// the caller pushes itself, records the outcome and reports whether it
// succeeded. A read begun before a user's last failed insert counts for
// nothing.
func (s *Service) settleUsers(ctx context.Context, users []int64, skip map[int64]bool) bool {
	started := time.Now()
	sent, err := s.catchUp(ctx, users, skip)
	st := &s.settle
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range users {
		u, ok := st.users[id]
		switch {
		case !ok || started.Before(u.failed):
			// Settled meanwhile, or an insert failed since this began.
		case err != nil:
			u.answered = time.Time{}
			st.users[id] = u
		case u.answered.IsZero():
			u.answered = time.Now()
			st.users[id] = u
		case started.Sub(u.answered) >= settleQuiet:
			delete(st.users, id)
		}
	}
	if s.logger != nil {
		if err != nil {
			s.logger.Warn("notify: catch-up after a failed insert", "users", len(users), "error", err)
		} else if sent > 0 {
			s.logger.Info("notify: caught up notifications committed behind a failed insert", "users", len(users), "rows", sent)
		}
	}
	return err == nil
}

// catchUp publishes to the sockets of users the notifications above the
// lowest cursor among each user's sockets, except those in skip, in id
// order, and returns how many it published.
func (s *Service) catchUp(ctx context.Context, users []int64, skip map[int64]bool) (int, error) {
	floors := s.hub.catchUpFloorsOf(users)
	limit := s.hub.QueueSize()
	var rows []Notification
	if len(floors) > 0 {
		var err error
		if rows, err = s.store.NotificationsAfter(ctx, floors, limit+1+len(skip)); err != nil {
			return 0, err
		}
	}
	// Read after the rows, so that every row published is counted; and
	// read even when no socket is open, so that success shows the
	// database answers.
	counts, err := s.store.UnreadCounts(ctx, users)
	if err != nil {
		return 0, err
	}
	rows = slices.DeleteFunc(rows, func(n Notification) bool { return skip[n.ID] })
	sent, _ := s.hub.PublishCatchUp(rows, counts, limit)
	return sent, nil
}

// settleLoop retries the catch-up of the unsettled users every
// settleRetry until none is left or ctx ends.
//
// It does not lock the users' stripes: while the database hangs, each try
// waits for database.query_timeout, and holding a stripe that long would
// stall the committer, which serves every user. It need not either. The
// committer never pushes to an unsettled user without catching it up
// first, so whatever this loop publishes was either not sent yet or is at
// or below each socket's cursor and dropped: each publisher sends rows in
// id order, and neither skips a row the other could send later.
func (s *Service) settleLoop(ctx context.Context, stopped chan struct{}) {
	t := time.NewTicker(settleRetry)
	defer t.Stop()
	st := &s.settle
	for {
		select {
		case <-ctx.Done():
		case <-t.C:
			st.mu.Lock()
			users := slices.Sorted(maps.Keys(st.users))
			st.mu.Unlock()
			if len(users) > 0 {
				s.settleUsers(ctx, users, nil)
			}
		}
		st.mu.Lock()
		if ctx.Err() != nil || len(st.users) == 0 {
			st.running = false
			st.cancel()
			close(stopped)
			st.mu.Unlock()
			return
		}
		st.mu.Unlock()
	}
}

// closeSettle stops the background loop and waits for it to end, or for
// ctx. Users still unsettled stay so: their rows reach clients that
// resume.
func (s *Service) closeSettle(ctx context.Context) error {
	st := &s.settle
	st.mu.Lock()
	st.closed = true
	running, cancel, stopped := st.running, st.cancel, st.stopped
	st.mu.Unlock()
	if !running {
		return nil
	}
	cancel()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
