package store

import (
	"context"
	"maps"
	"slices"

	"github.com/notifyd/notifyd/migrations"
)

// The cluster receiver's audits (notify.Receiver): every second each
// instance asks whether any user it follows has a change it never heard
// of, and now and then whether any session with a socket there is gone.
// Both are asked of every user and session with a socket, and the answer
// is almost always "none". So on Postgres each is one statement whatever
// their number (the ids travel as arrays: one statement text, prepared
// once per connection, sent through pgx as the read-back is) that returns
// only the exceptions: no 1,000-placeholder text to parse and plan every
// second, no 1,000 rows to send back and decode (BENCHMARKS.md, "Where the
// cluster's time goes"). The cached generic plan is fine here, unlike the
// read-back's `= ANY`: on a large table it probes the primary key once per
// array element (EXPLAIN with 100,000 users and 1,000 ids: a nested loop
// over index scans, under 1 ms), on a small one it hashes the table.
// The brokers need Postgres; on SQLite the plain reads do the same.

// seqsAheadSQL joins the users named by $1 with the seq each was last
// seen at ($2, same order) and keeps those whose seq has moved past it.
const seqsAheadSQL = `SELECT u.id, u.seq
FROM unnest($1::bigint[], $2::bigint[]) AS f (id, last)
JOIN users u ON u.id = f.id
WHERE u.seq > f.last`

// missingSessionsSQL keeps the ids of $1 that are no session.
const missingSessionsSQL = `SELECT f.id FROM unnest($1::bigint[]) AS f (id)
WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = f.id)`

// SeqsAhead returns, of the users in last, those whose seq in the
// database is above last[user], with that seq (a user that does not
// exist is left out): the receiver's audit for a change it never
// received.
func (s *Store) SeqsAhead(ctx context.Context, last map[int64]int64) (map[int64]int64, error) {
	if len(last) == 0 {
		return map[int64]int64{}, nil
	}
	users := slices.Sorted(maps.Keys(last))
	if s.dialect != migrations.Postgres {
		seqs, err := s.UserSeqs(ctx, users)
		if err != nil {
			return nil, err
		}
		maps.DeleteFunc(seqs, func(uid, seq int64) bool { return seq <= last[uid] })
		return seqs, nil
	}
	seen := make([]int64, len(users))
	for i, uid := range users {
		seen[i] = last[uid]
	}
	out := make(map[int64]int64)
	var uid, seq int64
	err := s.queryEach(ctx, seqsAheadSQL, []any{users, seen}, []any{&uid, &seq}, func() error {
		out[uid] = seq
		return nil
	})
	if err != nil {
		return nil, s.translate(ctx, "seqs ahead", err)
	}
	return out, nil
}

// MissingSessions returns those of ids that are no longer sessions
// (logged out, revoked or expired and swept), ascending.
func (s *Store) MissingSessions(ctx context.Context, ids []int64) ([]int64, error) {
	ids = sortedDistinct(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	if s.dialect != migrations.Postgres {
		existing, err := s.ExistingSessions(ctx, ids)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(ids, func(id int64) bool { return existing[id] }), nil
	}
	var missing []int64
	var id int64
	err := s.queryEach(ctx, missingSessionsSQL, []any{ids}, []any{&id}, func() error {
		missing = append(missing, id)
		return nil
	})
	if err != nil {
		return nil, s.translate(ctx, "missing sessions", err)
	}
	slices.Sort(missing)
	return missing, nil
}
