package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// Bounds on bind parameters per statement, well under Postgres' 65535 and
// SQLite's 32766: at most maxIDsPerQuery ids in an IN list, and
// insertBatch rows (7 parameters each) per INSERT on SQLite.
const (
	maxIDsPerQuery = 1000
	insertBatch    = 500
)

// InsertBatch stores one notification per item whose user exists, in one
// transaction, and returns one notify.Inserted per item in the order of
// items: the stored row (ID 0 when the user does not exist) and the
// user's unread count just after that row, as if the items had been
// inserted one by one. A user may appear in several items; each gets its
// own row. It is the group commit of notify.Service: on Postgres the
// whole transaction is one round trip (insert_postgres.go).
//
// Per user, id order equals commit order: on Postgres the transaction
// first locks the users' rows in id order (so two batches cannot
// deadlock) before any id is drawn, and a concurrent insert for the same
// user waits until this one commits; on SQLite the immediate transaction
// already serialises writers. A client resuming after id N therefore never
// misses a row committed later with a smaller id. Within the batch, ids
// follow the order of items.
//
// Each row also adds one to its user's change sequence (users.seq): a
// row's Seq is the user's seq just after it, so per user seqs follow ids.
//
// Each claim's idempotency key is claimed in the same transaction
// (idempotency.go): the items of a claim whose key is taken are not stored
// and its outcome carries what is stored with the key; a won claim's
// answer is rendered from its rows and stored with the key.
func (s *Store) InsertBatch(ctx context.Context, items []notify.NewItem, claims []notify.Claim, now time.Time) ([]notify.Inserted, []notify.ClaimOutcome, error) {
	out := make([]notify.Inserted, len(items))
	if len(items) == 0 {
		return out, nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var (
		outcomes []notify.ClaimOutcome
		err      error
	)
	if s.dialect == migrations.Postgres {
		outcomes, err = s.insertPostgres(ctx, items, claims, utc(now), out)
	} else {
		outcomes, err = s.insertSQLite(ctx, items, claims, utc(now), out)
	}
	if err != nil {
		return nil, nil, s.translate(ctx, "insert notifications", err)
	}
	return out, outcomes, nil
}

// insertSQLite is InsertBatch on SQLite, where a statement costs no round
// trip: read the users' unread counts (which also tells which users
// exist), insert in chunks, add the rows to the counts. The immediate
// transaction holds the database's write lock from its start, so no user
// row needs locking.
func (s *Store) insertSQLite(ctx context.Context, items []notify.NewItem, claims []notify.Claim, created time.Time, out []notify.Inserted) ([]notify.ClaimOutcome, error) {
	var outcomes []notify.ClaimOutcome
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if outcomes, err = claimSQLite(tx, claims, created); err != nil {
			return err
		}
		if ext := externalIDs(items); len(ext) > 0 {
			byExternal, err := ensureExternalSQLite(tx, ext, created)
			if err != nil {
				return err
			}
			items = resolveExternal(items, byExternal)
		}
		userIDs := make([]int64, len(items))
		for i, it := range items {
			userIDs[i] = it.UserID
		}
		before, err := s.lockUsers(tx, userIDs)
		if err != nil {
			return err
		}
		todo := make([]int, 0, len(items))
		for _, i := range claimedItems(len(items), claims, outcomes) {
			if _, ok := before[items[i].UserID]; ok {
				todo = append(todo, i)
			}
		}
		added := make(map[int64]int64, len(before))
		for _, chunk := range chunks(todo, insertBatch) {
			rows, err := insertValues(tx, items, chunk, created)
			if err != nil {
				return err
			}
			for k := range rows {
				rows[k].Unread = before[rows[k].UserID]
			}
			if _, err := assign(items, chunk, rows, created, out); err != nil {
				return err
			}
			for _, i := range chunk {
				before[items[i].UserID]++
				added[items[i].UserID]++
			}
		}
		seqAfter, err := addUnreadMany(tx, added, true)
		if err != nil {
			return err
		}
		for uid, n := range added {
			seqAfter[uid] -= n
		}
		stampSeq(out, seqAfter)
		answers(claims, outcomes, out)
		return storeAnswers(tx, claims, outcomes)
	})
	return outcomes, err
}

// insertValues inserts the items at the indexes of chunk in a single
// multi-row INSERT and returns the new rows.
func insertValues(tx *gorm.DB, items []notify.NewItem, chunk []int, created time.Time) ([]insertedRow, error) {
	args := make([]any, 0, 7*len(chunk))
	for _, i := range chunk {
		it := items[i]
		args = append(args, it.UserID, it.Title, it.Content, string(styleOf(it.NewNotification)),
			urlOf(it.URL), dataOf(it.Data), created)
	}
	sql := "INSERT INTO notifications (user_id, title, content, style, url, data, created_at) VALUES " +
		valuesList("(?, ?, ?, ?, ?, ?, ?)", len(chunk)) + " RETURNING id, user_id"
	var rows []insertedRow
	err := tx.Raw(sql, args...).Scan(&rows).Error
	return rows, err
}

// insertedRow is what an INSERT returns for each row, with the unread
// count and seq of its user before that INSERT (Postgres; SQLite reads
// them apart).
type insertedRow struct {
	ID     int64
	UserID int64
	Unread int64
	Seq    int64
}

// stampSeq sets the Seq of each stored row of out (in item order, which
// per user is id order): its user's seq before the batch, in seqBefore,
// plus its rank among the user's rows.
func stampSeq(out []notify.Inserted, seqBefore map[int64]int64) {
	for i := range out {
		if out[i].ID == 0 {
			continue
		}
		seqBefore[out[i].UserID]++
		out[i].Seq = seqBefore[out[i].UserID]
	}
}

// assign matches the rows one INSERT statement returned to the items at
// the indexes of chunk whose user got a row (an unknown user gets none),
// fills their entries of out, and returns those indexes.
//
// Which id went to which item: both engines draw the identity of each row
// in the order rows reach the INSERT, which is the order of a VALUES list
// or of the ORDER BY of an INSERT ... SELECT (SQLAlchemy's batched
// INSERT ... RETURNING relies on the same), but neither promises the
// order of the RETURNING rows, so those are sorted by id and matched to
// the items in order. The user of every row is checked against its item,
// so a broken assumption fails loudly instead of mixing up rows.
//
// A row's unread count is its user's count before the statement plus the
// user's rows of the statement up to that one.
func assign(items []notify.NewItem, chunk []int, rows []insertedRow, created time.Time, out []notify.Inserted) ([]int, error) {
	slices.SortFunc(rows, func(a, b insertedRow) int { return cmp.Compare(a.ID, b.ID) })
	got := make(map[int64]int64, len(rows)) // rows per user so far
	for _, r := range rows {
		got[r.UserID] = 0
	}
	done := make([]int, 0, len(rows))
	for _, i := range chunk {
		it := items[i]
		if _, ok := got[it.UserID]; !ok {
			continue
		}
		k := len(done)
		if k >= len(rows) || rows[k].UserID != it.UserID {
			return nil, fmt.Errorf("insert: %d rows returned do not match the items", len(rows))
		}
		got[it.UserID]++
		out[i] = notify.Inserted{
			Notification: notify.Notification{
				ID: rows[k].ID, UserID: it.UserID, Title: it.Title, Content: it.Content,
				Style: styleOf(it.NewNotification), URL: urlOf(it.URL), Data: it.Data,
				CreatedAt: created,
			},
			Unread: rows[k].Unread + got[it.UserID],
		}
		done = append(done, i)
	}
	if len(done) != len(rows) {
		return nil, fmt.Errorf("insert: %d rows returned for %d items", len(rows), len(done))
	}
	return done, nil
}

// urlOf is a link as the nullable column holds it. It takes the link,
// not the notification: a pointer into a notification passed by value
// moved all of it to the heap on every call, with a link or without.
func urlOf(url string) *string {
	if url == "" {
		return nil
	}
	p := url
	return &p
}

// dataOf is a notification's data as the nullable column holds it.
func dataOf(data json.RawMessage) *string {
	if len(data) == 0 {
		return nil
	}
	s := string(data)
	return &s
}

// styleOf is n's style, info when unset.
func styleOf(n notify.NewNotification) notify.Style {
	if n.Style == "" {
		return notify.StyleInfo
	}
	return n.Style
}
