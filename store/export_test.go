package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/notify"
)

// InsertBatchPipeline is InsertBatch on Postgres through the general
// pipeline whatever the batch, so that tests can hold the one-user
// statement to it.
func (s *Store) InsertBatchPipeline(ctx context.Context, items []notify.NewItem, claims []notify.Claim, now time.Time) ([]notify.Inserted, []notify.ClaimOutcome, error) {
	out := make([]notify.Inserted, len(items))
	var outcomes []notify.ClaimOutcome
	err := s.withPgx(ctx, func(c *pgx.Conn) error {
		var err error
		outcomes, err = s.pipelineInsert(ctx, c, items, claims, utc(now), out)
		return err
	})
	if err != nil {
		return nil, nil, s.translate(ctx, "insert notifications", err)
	}
	return out, outcomes, nil
}

// Setting returns a run-time parameter as a connection of the pool has it.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.WithContext(ctx).Raw("SELECT current_setting(?)", name).Scan(&v).Error
	return v, err
}

// MarkStats scans table on a connection of the pool and has Postgres
// flush that connection's statistics as soon as it is idle, all at once:
// once pg_stat_user_tables counts the scan, it counts everything the
// connection did before it.
func (s *Store) MarkStats(ctx context.Context, table string) error {
	return s.withPgx(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SELECT pg_stat_force_next_flush(); SELECT FROM "+pgx.Identifier{table}.Sanitize())
		return err
	})
}
