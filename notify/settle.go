package notify

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// Settling inserts whose outcome is unknown, on the instance that made
// them (other instances see such a row as a gap in the user's seq, or in
// their audit, and catch up from the database: receiver.go).
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
	catchUp catchUp
	logger  *slog.Logger

	mu      sync.Mutex
	users   map[int64]unsettled
	running bool
	closed  bool // Close was called: no new loop
	cancel  context.CancelFunc
	stopped chan struct{} // closed when the running loop ends
}

// newSettler returns a settler with no unsettled user, catching up with c.
func newSettler(c catchUp, logger *slog.Logger) *settler {
	return &settler{catchUp: c, logger: logger}
}

// unsettled is the state of one unsettled user.
type unsettled struct {
	failed   time.Time // when its last insert failed
	answered time.Time // when a catch-up begun after that last succeeded; zero: none yet
}

// unsettle marks userIDs unsettled after a failed batch and starts the
// background loop if it is not running. Call with their stripes locked,
// so that the next batch of these users sees the mark.
func (st *settler) unsettle(userIDs []int64) {
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
	go st.loop(ctx, st.stopped)
}

// settleBeforePush catches up the unsettled users among those of rows, a
// batch just committed, and returns the rows to push: all of them, minus
// those of users whose catch-up failed. Their sockets must not move past
// a row still unseen; the background loop sends those rows later. Call
// with the stripes of the batch's users locked.
func (st *settler) beforePush(rows []Inserted) []Inserted {
	var users []int64
	st.mu.Lock()
	for _, r := range rows {
		if _, ok := st.users[r.UserID]; ok && !slices.Contains(users, r.UserID) {
			users = append(users, r.UserID)
		}
	}
	st.mu.Unlock()
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
	if st.settleUsers(context.Background(), users, skip) {
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
func (st *settler) settleUsers(ctx context.Context, users []int64, skip map[int64]bool) bool {
	started := time.Now()
	done, err := st.catchUp.run(ctx, users, skip)
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
	if err != nil {
		st.logger.Warn("notify: catch-up after a failed insert", "users", len(users), "error", err)
	} else if done.rows > 0 {
		st.logger.Info("notify: caught up notifications committed behind a failed insert", "users", len(users), "rows", done.rows)
	}
	return err == nil
}

// loop retries the catch-up of the unsettled users every
// settleRetry until none is left or ctx ends.
//
// It does not lock the users' stripes: while the database hangs, each try
// waits for database.query_timeout, and holding a stripe that long would
// stall the committer, which serves every user. It need not either. The
// committer never pushes to an unsettled user without catching it up
// first, so whatever this loop publishes was either not sent yet or is at
// or below each socket's cursor and dropped: each publisher sends rows in
// id order, and neither skips a row the other could send later.
func (st *settler) loop(ctx context.Context, stopped chan struct{}) {
	t := time.NewTicker(settleRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
		case <-t.C:
			st.mu.Lock()
			users := slices.Sorted(maps.Keys(st.users))
			st.mu.Unlock()
			if len(users) > 0 {
				st.settleUsers(ctx, users, nil)
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

// close stops the background loop and waits for it to end, or for ctx.
// Users still unsettled stay so: their rows reach clients that resume.
func (st *settler) close(ctx context.Context) error {
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
