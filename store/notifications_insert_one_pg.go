package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/notify"
)

// The one-user insert: the common group-commit batch on Postgres. At a
// steady rate every batch holds one notification, for one user named by
// id, without an idempotency key; the general pipeline
// (notifications_insert_pg.go) then still runs two statements, the lock
// and a CTE built for many users, external ids and claims, and cost
// Postgres about twice the CPU of a bare INSERT + COMMIT per request
// (BENCHMARKS.md, "The one-user insert"). This path runs one statement.

// insertOneUserSQL stores the items given as arrays ($2 titles, $3
// contents, $4 styles, $6 urls, $7 data, NULL for none; $5 the creation
// time) for the user $1, in array order, and returns each new row with
// the user's unread count and seq before the statement. No row is
// returned when the user does not exist.
//
// The UPDATE of the user's counters comes first and the INSERT reads its
// rows from the UPDATE's RETURNING: so the user's row is locked (FOR NO
// KEY UPDATE, as lockUsersSQL locks it, waiting for a concurrent insert
// to commit) before a row exists to draw an id for, which keeps the
// guarantee of InsertBatch that per user id order is commit order. The
// count waited for is re-read by the UPDATE (READ COMMITTED re-checks the
// newest version of a row it waited on), so it is exact. One user means
// one lock, so there is no lock order to keep.
const insertOneUserSQL = `WITH u AS (
	UPDATE users SET unread_count = unread_count + cardinality($2::text[]), seq = seq + cardinality($2::text[])
	WHERE id = $1
	RETURNING id, unread_count - cardinality($2::text[]) AS unread, seq - cardinality($2::text[]) AS seq
), ins AS (
	INSERT INTO notifications (user_id, title, content, style, url, data, created_at)
	SELECT u.id, v.title, v.content, v.style::notification_style, v.url, v.data, $5
	FROM u, unnest($2::text[], $3::text[], $4::text[], $6::text[], $7::text[])
		WITH ORDINALITY AS v (title, content, style, url, data, ord)
	ORDER BY v.ord
	RETURNING id, user_id
)
SELECT ins.id, ins.user_id, u.unread, u.seq FROM ins, u`

// oneUser returns the user of a batch that can take insertOneUser: no
// claims, and every item names the same user by id.
func oneUser(items []notify.NewItem, claims []notify.Claim) (int64, bool) {
	if len(claims) > 0 || len(items) == 0 {
		return 0, false
	}
	user := items[0].UserID
	for _, it := range items {
		if it.UserID == 0 || it.UserID != user {
			return 0, false
		}
	}
	return user, true
}

// insertOneUser is InsertBatch on Postgres for a batch oneUser accepts:
// one statement, run by Postgres as its own transaction.
func insertOneUser(ctx context.Context, c *pgx.Conn, user int64, items []notify.NewItem, created time.Time, out []notify.Inserted) error {
	n := len(items)
	titles, contents, styles := make([]string, n), make([]string, n), make([]string, n)
	urls, data := make([]*string, n), make([]*string, n)
	for i, it := range items {
		titles[i], contents[i], styles[i] = it.Title, it.Content, string(styleOf(it.NewNotification))
		urls[i], data[i] = urlOf(it.URL), dataOf(it.Data)
	}
	rows, err := c.Query(ctx, insertOneUserSQL, user, titles, contents, styles, created, urls, data)
	if err != nil {
		return err
	}
	got := make([]insertedRow, 0, n)
	for rows.Next() {
		got = append(got, insertedRow{})
		r := &got[len(got)-1] // scanned in place: a row of its own would escape
		if err := rows.Scan(&r.ID, &r.UserID, &r.Unread, &r.Seq); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(got) == 0 {
		return nil // no such user: every item keeps ID 0
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	if _, err := assign(items, all, got, created, out); err != nil {
		return err
	}
	stampSeq(out, map[int64]int64{user: got[0].Seq})
	return nil
}
