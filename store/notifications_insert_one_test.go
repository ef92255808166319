package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// insertPaths are the two ways InsertBatch stores a batch without claims
// on Postgres: InsertBatch itself, which takes the one-user statement when
// the batch has one user, and the general pipeline.
var insertPaths = []struct {
	name   string
	insert func(st *store.Store, items []notify.NewItem) ([]notify.Inserted, error)
}{
	{"statement", func(st *store.Store, items []notify.NewItem) ([]notify.Inserted, error) {
		rows, _, err := st.InsertBatch(context.Background(), items, nil, t0)
		return rows, err
	}},
	{"pipeline", func(st *store.Store, items []notify.NewItem) ([]notify.Inserted, error) {
		rows, _, err := st.InsertBatchPipeline(context.Background(), items, nil, t0)
		return rows, err
	}},
}

// TestInsertOneUserAsPipeline runs the same batches through InsertBatch
// on one Postgres database and through the general pipeline on another,
// and compares what each returned and stored: rows, unread counts and
// seqs. The batches of one user and no claim take the one-user statement
// in the first database (notifications_insert_one_pg.go); the others take
// the pipeline in both, which keeps the two databases' ids in step.
func TestInsertOneUserAsPipeline(t *testing.T) {
	t.Parallel()
	if !storetest.Postgres(t) {
		t.Skip("the one-user statement is Postgres only")
	}
	ctx := context.Background()
	one, general := storetest.Open(t), storetest.Open(t)
	var alice, bob int64
	for _, st := range []*store.Store{one, general} {
		alice, bob = storetest.User(t, st, "alice").ID, storetest.User(t, st, "bob").ID
	}
	unknown := bob + 1000
	url := "https://example.com/build/7"
	styled := func(userID int64, title string, style notify.Style, url string, data string) notify.NewItem {
		it := item(userID, title)
		it.Style, it.URL = style, url
		if data != "" {
			it.Data = json.RawMessage(data)
		}
		return it
	}
	batches := []struct {
		name  string
		items []notify.NewItem
	}{
		{"one row", []notify.NewItem{item(alice, "a1")}},
		{"one row, another user", []notify.NewItem{item(bob, "b1")}},
		{"one user, several rows, every column", []notify.NewItem{
			styled(alice, "a2", notify.StyleWarning, url, `{"build":7}`),
			styled(alice, "a3", notify.StyleError, "", ""),
			styled(alice, "a4", "", url, `{"k":[1,2]}`),
		}},
		{"two users", []notify.NewItem{item(bob, "b2"), item(alice, "a5"), item(bob, "b3")}},
		{"unknown user", []notify.NewItem{item(unknown, "x1")}},
		{"unknown user, several rows", []notify.NewItem{item(unknown, "x2"), item(unknown, "x3")}},
		{"after read-all", nil}, // marks alice's rows read: the count and seq part
		{"one row after read-all", []notify.NewItem{item(alice, "a6")}},
		{"one user by id and unknown", []notify.NewItem{item(alice, "a7"), item(unknown, "x4")}},
	}
	for _, b := range batches {
		if b.items == nil {
			for _, st := range []*store.Store{one, general} {
				if _, _, err := st.MarkAllRead(ctx, alice, 0, t0); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		gotOne, _, err := one.InsertBatch(ctx, b.items, nil, t0)
		if err != nil {
			t.Fatalf("%s: one-user path: %v", b.name, err)
		}
		gotGeneral, _, err := general.InsertBatchPipeline(ctx, b.items, nil, t0)
		if err != nil {
			t.Fatalf("%s: pipeline: %v", b.name, err)
		}
		if !reflect.DeepEqual(gotOne, gotGeneral) {
			t.Fatalf("%s: one-user path returned\n%+v\npipeline returned\n%+v", b.name, gotOne, gotGeneral)
		}
		for _, uid := range []int64{alice, bob, unknown} {
			posOne, err := one.Position(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			posGeneral, err := general.Position(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			if posOne != posGeneral {
				t.Fatalf("%s: user %d: position %+v, pipeline %+v", b.name, uid, posOne, posGeneral)
			}
		}
		if s1, s2 := storedByID(t, one, alice, bob), storedByID(t, general, alice, bob); !reflect.DeepEqual(s1, s2) {
			t.Fatalf("%s: stored\n%+v\npipeline stored\n%+v", b.name, s1, s2)
		}
	}
	pos, err := one.Position(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	// a1..a7 and one read-all (which bumps the seq once): the batches did
	// reach the database, so the comparisons above compared something.
	if want := (notify.Position{Newest: pos.Newest, Seq: 8, Unread: 2}); pos != want || pos.Newest == 0 {
		t.Fatalf("alice's position %+v, want %+v", pos, want)
	}
}

// TestInsertLocksBeforeDrawingID: an insert for a user whose row another
// transaction holds waits for the lock before it draws its id, so the
// row committed first has the smaller id (InsertBatch's order guarantee),
// on the one-user statement and on the pipeline. The other transaction
// draws its id only once the insert is seen waiting on the lock; an
// insert that drew its id before waiting would get the smaller id and
// commit second.
func TestInsertLocksBeforeDrawingID(t *testing.T) {
	t.Parallel()
	if !storetest.Postgres(t) {
		t.Skip("row locks are Postgres only (SQLite's immediate transaction serialises writers)")
	}
	for _, path := range insertPaths {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := storetest.Config(t)
			st := storetest.OpenConfig(t, cfg)
			alice := storetest.User(t, st, "alice").ID
			holder := connect(t, cfg.URL)
			tx, err := holder.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if _, err := tx.Exec(ctx, "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", alice); err != nil {
				t.Fatal(err)
			}
			type result struct {
				rows []notify.Inserted
				err  error
			}
			done := make(chan result, 1)
			go func() {
				rows, err := path.insert(st, []notify.NewItem{item(alice, "waits")})
				done <- result{rows, err}
			}()
			// Wait (without a time limit of our own) until the insert waits on
			// alice's row: a backend other than ours waiting on a lock.
			for waiting := 0; waiting == 0; {
				err := holder.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`).Scan(&waiting)
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond) // spare the shared box a busy loop
			}
			var first int64
			err = tx.QueryRow(ctx, `INSERT INTO notifications (user_id, title, created_at)
				VALUES ($1, 'holds the lock', $2) RETURNING id`, alice, t0).Scan(&first)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "UPDATE users SET unread_count = unread_count + 1, seq = seq + 1 WHERE id = $1", alice); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if got := r.rows[0]; got.ID <= first || got.Unread != 2 || got.Seq != 2 {
				t.Fatalf("insert committed second got id %d, unread %d, seq %d; want an id above %d (committed first), unread 2, seq 2",
					got.ID, got.Unread, got.Seq, first)
			}
		})
	}
}
