package store

import (
	"context"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/notifyd/notifyd/notify"
)

// The two reads of every connect on Postgres, through pgx directly as the
// insert is (notifications_insert_pg.go): gorm's callbacks, its reflection
// over the row struct and database/sql's row conversion cost a lone read
// of the session 118 allocations and one of the position 76
// (BenchmarkConnectReads); through pgx, 39 and 25 (issue 11, "Connect and
// authenticate").
//
// The keys go as a list of parameters, `IN ($1, …, $n)`, n a power of two
// (the coalescer pads the keys, padKeys): each read is one of 9 statement
// texts, each prepared once per pooled connection, on which Postgres keeps
// a generic plan after its first five calls (made again as the tables
// grow: analyze_pg.go). An array parameter,
// `= ANY($1)`, would be one text, but a generic plan cannot know its
// length: Postgres planned the statement again on every call (0.6 ms of
// planning for the position read; BenchmarkConnectReads twice as slow).
// SQLite keeps the gorm reads (sessions.go, seq.go): a statement there
// costs no round trip.

// sessionColumnsSQL are the columns of a session and its user, in the
// order of sessionUserRow.dest.
const sessionColumnsSQL = `s.id, s.user_id, s.secret_hash, s.created_at, s.expires_at,
	u.id, u.username, u.external_id, u.name, u.password_hash, u.created_at`

// sessionsByHashSQL reads sessions by secret hash with their users; the
// list of hashes is appended (inLists).
const sessionsByHashSQL = `SELECT ` + sessionColumnsSQL + `
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.secret_hash IN `

// connectsByHashSQL reads sessions by secret hash with their users and
// the users' positions (see positionsSQL), in one statement: one snapshot
// (connect_read.go).
const connectsByHashSQL = `SELECT ` + sessionColumnsSQL + `, u.seq, u.unread_count,
	COALESCE((SELECT MAX(n.id) FROM notifications n WHERE n.user_id = u.id), 0)
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.secret_hash IN `

// positionsSQL reads users' positions (see positionsOf); the list of ids
// is appended (inLists).
const positionsSQL = `SELECT u.id, u.seq, u.unread_count,
	COALESCE((SELECT MAX(n.id) FROM notifications n WHERE n.user_id = u.id), 0)
FROM users u WHERE u.id IN `

// The statement texts of each read, by batch size: index i holds the
// text for 2^i keys. Built once and never changed.
var (
	sessionsByHashSQLs = inLists(sessionsByHashSQL)
	connectsByHashSQLs = inLists(connectsByHashSQL)
	positionsSQLs      = inLists(positionsSQL)
)

// inLists returns prefix followed by ($1), ($1, $2), ($1, …, $4) … up to
// readBatchKeys parameters.
func inLists(prefix string) []string {
	var texts []string
	for n := 1; n <= readBatchKeys; n *= 2 {
		var b strings.Builder
		b.WriteString(prefix)
		b.WriteByte('(')
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i))
		}
		b.WriteByte(')')
		texts = append(texts, b.String())
	}
	return texts
}

// inListSQL returns the text of texts (inLists) for n keys, a power of
// two (padKeys) no more than readBatchKeys.
func inListSQL(texts []string, n int) (string, error) {
	i := bits.Len(uint(n)) - 1
	if n <= 0 || n&(n-1) != 0 || i >= len(texts) {
		return "", fmt.Errorf("store: %d keys: not a padded batch", n)
	}
	return texts[i], nil
}

// sessionsBySecretHashPG is sessionsBySecretHash on Postgres.
func (s *Store) sessionsBySecretHashPG(ctx context.Context, hashes []string) (map[string]sessionUserRow, error) {
	out := make(map[string]sessionUserRow, len(hashes))
	var r sessionUserRow
	err := s.queryIn(ctx, sessionsByHashSQLs, hashArgs(hashes), r.dest(), func() error {
		out[string(r.SessionHash)] = r
		return nil
	})
	if err != nil {
		return nil, s.translate(ctx, "session by secret", err)
	}
	return out, nil
}

// connectsBySecretHashPG is connectsBySecretHash on Postgres.
func (s *Store) connectsBySecretHashPG(ctx context.Context, hashes []string) (map[string]connectRow, error) {
	out := make(map[string]connectRow, len(hashes))
	var r connectRow
	dest := append(r.Session.dest(), &r.Seq, &r.Unread, &r.Newest)
	err := s.queryIn(ctx, connectsByHashSQLs, hashArgs(hashes), dest, func() error {
		out[string(r.Session.SessionHash)] = r
		return nil
	})
	if err != nil {
		return nil, s.translate(ctx, "session and position", err)
	}
	return out, nil
}

// hashArgs are the parameters of a read by secret hashes (strings of the
// hash bytes).
func hashArgs(hashes []string) []any {
	args := make([]any, len(hashes))
	for i, h := range hashes {
		args[i] = []byte(h)
	}
	return args
}

// dest are the scan targets of sessionColumnsSQL.
func (r *sessionUserRow) dest() []any {
	return []any{&r.SessionID, &r.SessionUserID, &r.SessionHash, &r.SessionCreatedAt, &r.SessionExpiresAt,
		&r.UserID, &r.UserName, &r.UserExternalID, &r.UserDisplayName, &r.UserPasswordHash, &r.UserCreatedAt}
}

// positionsOfPG is positionsOf on Postgres: one statement, one snapshot.
func (s *Store) positionsOfPG(ctx context.Context, userIDs []int64) (map[int64]notify.Position, error) {
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
	}
	out := make(map[int64]notify.Position, len(userIDs))
	var id int64
	var p notify.Position
	err := s.queryIn(ctx, positionsSQLs, args, []any{&id, &p.Seq, &p.Unread, &p.Newest}, func() error {
		out[id] = p
		return nil
	})
	if err != nil {
		return nil, s.translate(ctx, "position", err)
	}
	return out, nil
}

// queryIn runs the text of texts (inLists) for len(args) keys through
// queryEach, and has the tables' growth checked (watchGrowth): their
// prepared statements' plans are made from the tables' statistics.
func (s *Store) queryIn(ctx context.Context, texts []string, args, dest []any, each func() error) error {
	sql, err := inListSQL(texts, len(args))
	if err != nil {
		return err
	}
	s.watchGrowth()
	return s.queryEach(ctx, sql, args, dest, each)
}
