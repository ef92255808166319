package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/notifyd/notifyd/notify"
)

// Postgres InsertBatch in one round trip. A group-commit batch is
// committed by one goroutine, so every round trip of its transaction is
// time during which no other notification can be committed; with gorm a
// transaction takes four (BEGIN, lock, insert, COMMIT), and on a busy
// machine each costs a wake-up of both the backend and our goroutine.
// Here the statements go out in one pgx pipeline, which Postgres runs as
// one implicit transaction ending at its Sync: atomic, one round trip.
// Idempotency keys store an answer rendered from the new ids, so a batch
// with keys takes two: BEGIN + claims + lock + insert, then the answers +
// COMMIT. No doorbell is sent in the transaction: the broker announces the
// committed rows after the commit (cluster/, broker.go).

// lockUsersSQL locks the rows of the users in id order, before any
// notification id is drawn (see InsertBatch). FOR NO KEY UPDATE conflicts
// with itself, so inserts for one user queue up, but not with the
// key-share lock a foreign key check takes, so creating a session is not
// held up.
//
// The ids are one array ($1 and the ids of the external ids $2, read
// only when there are some) rather than "id = ANY($1) OR external_id =
// ANY($2)": an OR of two arrays made the cached generic plan a
// sequential scan of users on every batch (so did the joins on users
// below), which costs a batch of one notification about five times the
// buffers of the row itself on a table of a few thousand users. An array
// in one "id = ANY" is an index condition whatever the table's size. The
// insert below joins users without such an array: with one, the generic
// plan probed the whole array once per row (a nested loop, quadratic in
// the batch), which halved the bulk API's rate (BENCHMARKS.md, "Results").
const lockUsersSQL = `SELECT id, external_id FROM users
WHERE id = ANY($1::bigint[] || ARRAY(SELECT x.id FROM users x WHERE cardinality($2::text[]) > 0 AND x.external_id = ANY($2::text[])))
ORDER BY id FOR NO KEY UPDATE`

// insertExternalUsersSQL creates the users named by external ids ($1,
// sorted, so that two transactions creating the same users take the
// unique index in one order) that do not exist yet (external_users.go).
const insertExternalUsersSQL = `INSERT INTO users (username, external_id, created_at)
SELECT '', e, $2 FROM unnest($1::text[]) AS e ORDER BY e
ON CONFLICT (external_id) DO NOTHING`

// insertNotificationsSQL inserts the items given as arrays ($1 user ids,
// NULL for an item named by $8 its external id; $2 titles, $3 contents, $4
// styles, $6 urls, $7 data, NULL for none; $9 and $10 the scope and key of
// the item's idempotency claim, NULL for none; $5 the creation time),
// except those whose claim this transaction did not win (its own claims,
// and only those, are visible with status 0: see idempotency.go), for
// users that
// exist, in array order, adds each user's new rows to its kept unread
// count and its change sequence (unread.go), and returns each new row with
// its user's count and seq before the statement. The users' rows are already locked by
// lockUsersSQL, so the UPDATE waits for nobody. The SQL text never
// changes, so the prepared statement is cached once per connection
// whatever the batch size.
//
// The count is added from the rows actually inserted (the "ins" output,
// which the rest of a statement sees although it cannot see the table's
// new rows), so it matches them exactly. RETURNING sees the updated
// unread_count; minus the rows added it is the count before.
const insertNotificationsSQL = `WITH ins AS (
	INSERT INTO notifications (user_id, title, content, style, url, data, created_at)
	SELECT u.id, v.title, v.content, v.style::notification_style, v.url, v.data, $5
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $6::text[], $7::text[], $8::text[], $9::bytea[], $10::text[])
		WITH ORDINALITY AS v (user_id, title, content, style, url, data, ext, cscope, ckey, ord)
	JOIN users u ON u.id = COALESCE(v.user_id, (SELECT x.id FROM users x WHERE x.external_id = v.ext))
	WHERE v.ckey IS NULL OR EXISTS (SELECT 1 FROM idempotency_keys k
		WHERE k.scope = v.cscope AND k.key = v.ckey AND k.status = 0)
	ORDER BY v.ord
	RETURNING id, user_id
), added AS (
	SELECT user_id, COUNT(*) AS n FROM ins GROUP BY user_id
), counts AS (
	UPDATE users SET unread_count = users.unread_count + added.n, seq = users.seq + added.n
	FROM added WHERE users.id = added.user_id
	RETURNING users.id AS user_id, users.unread_count - added.n AS unread, users.seq - added.n AS seq
)
SELECT ins.id, ins.user_id, counts.unread, counts.seq
FROM ins JOIN counts ON counts.user_id = ins.user_id`

// insertPostgres is InsertBatch on Postgres, on a connection of the pool
// used through pgx directly: the one-user statement when the batch allows
// it (notifications_insert_one_pg.go), the pipeline otherwise.
func (s *Store) insertPostgres(ctx context.Context, items []notify.NewItem, claims []notify.Claim, created time.Time, out []notify.Inserted) ([]notify.ClaimOutcome, error) {
	var outcomes []notify.ClaimOutcome
	err := s.withPgx(ctx, func(c *pgx.Conn) error {
		if user, ok := oneUser(items, claims); ok {
			return insertOneUser(ctx, c, user, items, created, out)
		}
		var err error
		outcomes, err = s.pipelineInsert(ctx, c, items, claims, created, out)
		return err
	})
	return outcomes, err
}

// withPgx runs f on a connection of the pool used through pgx directly
// (Postgres only).
func (s *Store) withPgx(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", driverConn)
		}
		return f(c.Conn())
	})
}

// queryEach runs sql with args on a pooled connection through pgx, within
// the store's query timeout, scans each row into dest and calls each after
// every row (pgx.ForEachRow). The caller translates the error.
func (s *Store) queryEach(ctx context.Context, sql string, args, dest []any, each func() error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.withPgx(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		_, err = pgx.ForEachRow(rows, dest, each)
		return err
	})
}

// insertArgs are the items of a batch as the arrays insertNotificationsSQL
// takes.
type insertArgs struct {
	users                       []int64 // 0 for an item named by external id
	userIDs                     []*int64
	titles, contents, styles    []string
	urls, data, exts, claimKeys []*string
	claimScopes                 [][]byte
}

func newInsertArgs(items []notify.NewItem, claims []notify.Claim) insertArgs {
	n := len(items)
	a := insertArgs{
		users: make([]int64, n), userIDs: make([]*int64, n),
		titles: make([]string, n), contents: make([]string, n), styles: make([]string, n),
		urls: make([]*string, n), data: make([]*string, n), exts: make([]*string, n),
		claimKeys: make([]*string, n), claimScopes: make([][]byte, n),
	}
	for i, it := range items {
		a.titles[i], a.contents[i], a.styles[i] = it.Title, it.Content, string(styleOf(it.NewNotification))
		a.urls[i], a.data[i] = urlOf(it.URL), dataOf(it.Data)
		if unresolved(it) {
			a.exts[i] = &items[i].ExternalID
		} else {
			a.users[i], a.userIDs[i] = it.UserID, &items[i].UserID
		}
	}
	for k := range claims {
		c := &claims[k]
		for i := c.First; i < c.First+c.Count; i++ {
			a.claimKeys[i], a.claimScopes[i] = &c.Key, c.Scope
		}
	}
	return a
}

// pipelineInsert sends the transaction of a batch as one pipeline, or as
// two when it must look at what the first returned before committing:
// idempotency keys store the answer rendered from the new rows. Without
// them, the rows
// are committed by the time assign checks them: a mismatch there
// (identities no longer drawn in ORDER BY order by some future Postgres)
// fails the batch although its rows are stored, which beats pushing a row
// to the wrong caller.
func (s *Store) pipelineInsert(ctx context.Context, c *pgx.Conn, items []notify.NewItem, claims []notify.Claim, created time.Time, out []notify.Inserted) (outcomes []notify.ClaimOutcome, err error) {
	args := newInsertArgs(items, claims)
	ext := externalIDs(items)
	twoPhase := len(claims) > 0

	var b pgx.Batch
	if twoPhase {
		b.Queue("BEGIN")
		defer func() {
			if err != nil && c.PgConn().TxStatus() != 'I' {
				// Best effort: a connection still in a transaction is
				// discarded by the pool anyway (stdlib ResetSession).
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				defer cancel()
				_, _ = c.Exec(rctx, "ROLLBACK")
			}
		}()
	}
	if len(claims) > 0 {
		queueClaims(&b, claims, created)
	}
	if len(ext) > 0 {
		b.Queue(insertExternalUsersSQL, ext, created)
	}
	b.Queue(lockUsersSQL, sortedDistinct(args.users), ext)
	b.Queue(insertNotificationsSQL, args.userIDs, args.titles, args.contents, args.styles, created,
		args.urls, args.data, args.exts, args.claimScopes, args.claimKeys)
	br := c.SendBatch(ctx, &b)
	res, err := readPipeline(br, len(items), twoPhase, claims, len(ext) > 0)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if len(ext) > 0 {
		items = resolveExternal(items, res.byExternal)
	}
	if _, err := assign(items, claimedItems(len(items), claims, res.outcomes), res.rows, created, out); err != nil {
		return res.outcomes, err
	}
	seqBefore := make(map[int64]int64, len(res.rows))
	for _, r := range res.rows {
		seqBefore[r.UserID] = r.Seq
	}
	stampSeq(out, seqBefore)
	if !twoPhase {
		return res.outcomes, nil // one phase: committed at the pipeline's end
	}
	var end pgx.Batch
	answers(claims, res.outcomes, out)
	queueAnswers(&end, claims, res.outcomes)
	end.Queue("COMMIT")
	return res.outcomes, c.SendBatch(ctx, &end).Close()
}

// pipelineResult is what the first pipeline of a batch returned.
type pipelineResult struct {
	outcomes   []notify.ClaimOutcome
	byExternal map[string]int64
	rows       []insertedRow
}

// readPipeline reads the results of the first pipeline of a batch of
// items items, in the order pipelineInsert queued them: BEGIN when begun,
// the claims when there are any, the creation of external users when there
// are any, the lock (which maps external ids to user ids when external),
// then the rows of the INSERT.
func readPipeline(br pgx.BatchResults, items int, begun bool, claims []notify.Claim, external bool) (pipelineResult, error) {
	var res pipelineResult
	if begun {
		if _, err := br.Exec(); err != nil {
			return res, err
		}
	}
	if len(claims) > 0 {
		outcomes, err := readClaims(br, claims)
		if err != nil {
			return res, err
		}
		res.outcomes = outcomes
	}
	if external {
		if _, err := br.Exec(); err != nil {
			return res, err
		}
	}
	// The external ids of the locked users are read only when the batch
	// names users by external id not known before (pipelineInsert resolves
	// them); otherwise nil skips the column, so that no string and no map
	// entry is allocated for every external user of the batch.
	var (
		id  int64
		ext *string
	)
	dest := []any{&id, nil}
	if external {
		res.byExternal = make(map[string]int64)
		dest[1] = &ext
	}
	locked, err := br.Query()
	if err != nil {
		return res, err
	}
	for locked.Next() {
		if err := locked.Scan(dest...); err != nil {
			locked.Close()
			return res, err
		}
		if ext != nil {
			res.byExternal[*ext] = id
		}
	}
	locked.Close()
	if err := locked.Err(); err != nil {
		return res, err
	}
	inserted, err := br.Query()
	if err != nil {
		return res, err
	}
	defer inserted.Close()
	res.rows = make([]insertedRow, 0, items) // at most one row per item
	for inserted.Next() {
		res.rows = append(res.rows, insertedRow{})
		r := &res.rows[len(res.rows)-1]
		if err := inserted.Scan(&r.ID, &r.UserID, &r.Unread, &r.Seq); err != nil {
			return res, err
		}
	}
	return res, inserted.Err()
}
