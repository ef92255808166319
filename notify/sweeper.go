package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RetentionStore is what the Sweeper needs from the database; store.Store
// implements it. The Delete*Before methods delete at most limit rows per
// call.
type RetentionStore interface {
	// DeleteReadBefore deletes read notifications read before t.
	DeleteReadBefore(ctx context.Context, t time.Time, limit int) (int64, error)
	// DeleteUnreadBefore deletes unread notifications created before t.
	DeleteUnreadBefore(ctx context.Context, t time.Time, limit int) (int64, error)
	// DeleteExpiredSessions deletes the sessions expired at now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	// DeleteIdempotencyKeys deletes idempotency keys created before t.
	DeleteIdempotencyKeys(ctx context.Context, t time.Time, limit int) (int64, error)
}

// SweeperConfig tunes the Sweeper (the [retention] section; the defaults
// are config.Default's).
type SweeperConfig struct {
	// ReadAfter deletes read notifications read longer ago than this
	// (retention.read_after); 0 keeps them.
	ReadAfter time.Duration
	// UnreadAfter deletes unread notifications created longer ago than this
	// (retention.unread_after); 0 keeps them.
	UnreadAfter time.Duration
	// Interval is the time between two sweeps (retention.interval).
	Interval time.Duration
	// IdempotencyTTL deletes the publisher's idempotency keys older than
	// this (publisher.idempotency_ttl); 0 keeps them. A key is
	// honoured until the first sweep after it expires.
	IdempotencyTTL time.Duration
	// Batch is the number of rows one DELETE statement may remove
	// (retention.batch_size): short statements keep the locks, and
	// SQLite's single write lock, short for concurrent writers.
	Batch int
	// Pause is the wait between two batches (retention.batch_pause), which
	// lets waiting writers in first, SQLite's in particular.
	Pause time.Duration
}

// Sweeper deletes old notifications and expired sessions in the
// background. Deleting a notification sends nothing to open sockets: the
// rows are old, and a client learns of it only when it reloads its list.
type Sweeper struct {
	store  RetentionStore
	cfg    SweeperConfig
	logger *slog.Logger
	obs    Observer
	now    func() time.Time
}

// SweepResult is what one sweep deleted.
type SweepResult struct {
	Read     int64 // read notifications
	Unread   int64 // unread notifications
	Sessions int64 // expired sessions
	Keys     int64 // idempotency keys
}

// NewSweeper returns a Sweeper over st. cfg comes from the validated
// [retention] section (positive Interval and Batch); logger and obs may be
// nil.
func NewSweeper(st RetentionStore, cfg SweeperConfig, logger *slog.Logger, obs Observer) *Sweeper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{store: st, cfg: cfg, logger: logger, obs: observerOr(obs), now: time.Now}
}

// Run sweeps once at start, so a process restarted more often than the
// interval still sweeps, then every Interval until ctx is done. A failed
// sweep is logged and retried at the next tick; it never stops the
// process.
func (w *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		start := time.Now()
		res, err := w.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			w.logger.Warn("retention: sweep failed", "error", err,
				"read_deleted", res.Read, "unread_deleted", res.Unread, "sessions_deleted", res.Sessions, "keys_deleted", res.Keys)
		default:
			level := slog.LevelDebug
			if res.Read+res.Unread+res.Sessions+res.Keys > 0 {
				level = slog.LevelInfo
			}
			w.logger.Log(ctx, level, "retention: swept",
				"read_deleted", res.Read, "unread_deleted", res.Unread, "sessions_deleted", res.Sessions,
				"keys_deleted", res.Keys, "duration", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep runs one pass: read notifications past ReadAfter, unread ones past
// UnreadAfter, then expired sessions. The cutoffs are taken once, at the
// start, so a pass ends even while new rows age past them. On error it
// returns what was deleted before the error.
func (w *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	now := w.now()
	var res SweepResult
	if err := w.sweepOlder(ctx, RetentionRead, w.store.DeleteReadBefore, now, w.cfg.ReadAfter, &res.Read); err != nil {
		return res, err
	}
	if err := w.sweepOlder(ctx, RetentionUnread, w.store.DeleteUnreadBefore, now, w.cfg.UnreadAfter, &res.Unread); err != nil {
		return res, err
	}
	n, err := w.store.DeleteExpiredSessions(ctx, now)
	res.Sessions = n
	w.obs.RetentionDeleted(RetentionSession, n)
	if err != nil {
		return res, fmt.Errorf("notify: sweep %s: %w", RetentionSession, err)
	}
	if err := w.sweepOlder(ctx, RetentionIdempotencyKey, w.store.DeleteIdempotencyKeys, now, w.cfg.IdempotencyTTL, &res.Keys); err != nil {
		return res, err
	}
	return res, nil
}

// sweepOlder drains the rows of kind older than age (none when age is 0)
// with del, counts them into *deleted and the metric.
func (w *Sweeper) sweepOlder(ctx context.Context, kind string, del func(context.Context, time.Time, int) (int64, error),
	now time.Time, age time.Duration, deleted *int64) error {
	if age <= 0 {
		return nil
	}
	n, err := w.drain(ctx, del, now.Add(-age))
	*deleted = n
	w.obs.RetentionDeleted(kind, n)
	if err != nil {
		return fmt.Errorf("notify: sweep %s: %w", kind, err)
	}
	return nil
}

// drain calls del with batches of cfg.Batch until a batch deletes fewer
// rows (none left, or the rest locked by another instance's sweeper and
// left to it), pausing between batches. It returns the total deleted.
func (w *Sweeper) drain(ctx context.Context, del func(context.Context, time.Time, int) (int64, error), before time.Time) (int64, error) {
	var total int64
	for {
		n, err := del(ctx, before, w.cfg.Batch)
		total += n
		if err != nil || n < int64(w.cfg.Batch) {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(w.cfg.Pause):
		}
	}
}
