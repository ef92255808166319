package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// What the brokers read and write beside the notifications: each user's
// change sequence (users.seq, unread.go), the doorbells of the Postgres
// broker, and the events too large for one.

// UserSeqs returns the seq of each of userIDs that exists: what the
// receiver's audit and catch-up compare with the last change delivered.
func (s *Store) UserSeqs(ctx context.Context, userIDs []int64) (map[int64]int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	out := make(map[int64]int64, len(userIDs))
	for _, batch := range chunks(sortedDistinct(userIDs), maxIDsPerQuery) {
		var rows []struct{ ID, Seq int64 }
		if err := db.Raw("SELECT id, seq FROM users WHERE id IN ?", batch).Scan(&rows).Error; err != nil {
			return nil, s.translate(ctx, "user seqs", err)
		}
		for _, r := range rows {
			out[r.ID] = r.Seq
		}
	}
	return out, nil
}

// Position returns userID's newest notification id (0 when none), seq and
// unread count in one statement, so all three describe the same moment
// (notify.Position); an unknown user is all zeros. One round trip per
// connect: the count is kept in users (unread.go), a primary-key read.
// Concurrent reads share a statement (coalesce.go); each starts after its
// call, so a position read after Register is read after it.
func (s *Store) Position(ctx context.Context, userID int64) (notify.Position, error) {
	pos, _, err := s.positions.get(ctx, userID)
	if err != nil {
		return notify.Position{}, translate(ctx, "position", err)
	}
	return pos, nil
}

// positionsOf reads the position of each of userIDs that exists in one
// statement: one snapshot for all of them.
func (s *Store) positionsOf(ctx context.Context, userIDs []int64) (map[int64]notify.Position, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	// Find, not Scan: see sessionsBySecretHash.
	var rows []struct{ ID, Newest, Seq, Unread int64 }
	err := db.Raw(`SELECT u.id, u.seq, u.unread_count AS unread,
		COALESCE((SELECT MAX(n.id) FROM notifications n WHERE n.user_id = u.id), 0) AS newest
		FROM users u WHERE u.id IN ?`, userIDs).Find(&rows).Error
	if err != nil {
		return nil, s.translate(ctx, "position", err)
	}
	out := make(map[int64]notify.Position, len(rows))
	for _, r := range rows {
		out[r.ID] = notify.Position{Newest: r.Newest, Seq: r.Seq, Unread: r.Unread}
	}
	return out, nil
}

// notifyBatch is how many doorbells one statement sends.
const notifyBatch = 200

// Notify sends payloads on the Postgres NOTIFY channel, in order, in one
// statement of its own (after the changes they announce have committed).
// Postgres only.
//
// A NOTIFY gives its transaction an id, so its commit writes a record to
// the WAL and, under synchronous_commit, waits for the WAL to be flushed:
// behind the group commits' flushes of every instance. The doorbells'
// transaction commits without that wait (synchronous_commit off for it
// alone: set_config's is_local, so the pooled connection keeps the
// server's setting for the writes that follow). Nothing is lost by it: the
// changes a doorbell announces are durable before it is sent, and a
// doorbell lost in a crash of Postgres is one every listener repairs when
// it reconnects and catches up.
func (s *Store) Notify(ctx context.Context, channel string, payloads []string) error {
	if s.dialect != migrations.Postgres {
		return errors.New("store: notify: the postgres broker needs Postgres")
	}
	if len(payloads) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// One SELECT of several pg_notify calls: they run left to right, and
	// the notifications are queued in that order. Through pgx, as the
	// read-back is: gorm's callbacks and database/sql were a third of
	// notifyd's CPU in this call (BenchmarkNotify). One text per number of
	// payloads, prepared once per pooled connection; a sender at a steady
	// rate sends one.
	err := s.withPgx(ctx, func(c *pgx.Conn) error {
		for _, batch := range chunks(payloads, notifyBatch) {
			args := make([]any, 0, 1+len(batch))
			args = append(args, channel)
			calls := make([]string, len(batch))
			for i, p := range batch {
				args = append(args, p)
				calls[i] = "pg_notify($1, $" + strconv.Itoa(i+2) + ")"
			}
			sql := "SELECT set_config('synchronous_commit', 'off', true), " + strings.Join(calls, ", ")
			if _, err := c.Exec(ctx, sql, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.translate(ctx, "notify", err)
	}
	return nil
}

// StoreEvent stores a live event in cluster_events and returns its row
// id: the Postgres broker announces events by id, so their data never
// travels in a NOTIFY (which every database role may LISTEN to). The
// listeners sweep the rows after cluster.event_ttl.
func (s *Store) StoreEvent(ctx context.Context, userID int64, e notify.Event) (int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var id int64
	err := db.Raw("INSERT INTO cluster_events (user_id, type, data, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		userID, e.Type, string(e.Data), utc(time.Now())).Scan(&id).Error
	if err != nil {
		return 0, s.translate(ctx, "store event", err)
	}
	return id, nil
}
