package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// bells listens on the doorbell channel of cfg's database on a connection
// of its own.
type bells struct {
	conn *pgx.Conn
}

func listen(tb testing.TB, cfg config.Database) *bells {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.URL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "LISTEN "+notify.DoorbellChannel); err != nil {
		tb.Fatal(err)
	}
	return &bells{conn: conn}
}

// next returns the next doorbell, failing tb after 10 s.
func (b *bells) next(tb testing.TB) notify.Doorbell {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := b.conn.WaitForNotification(ctx)
	if err != nil {
		tb.Fatalf("no doorbell: %v", err)
	}
	if len(n.Payload) > notify.MaxDoorbellBytes {
		tb.Fatalf("payload of %d bytes", len(n.Payload))
	}
	d, err := notify.ParseDoorbell(n.Payload)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// none fails tb if a doorbell arrives within a short wait.
func (b *bells) none(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if n, err := b.conn.WaitForNotification(ctx); err == nil {
		tb.Fatalf("unexpected doorbell %s", n.Payload)
	}
}

// openCluster opens a store in cluster mode on a fresh Postgres database,
// or skips.
func openCluster(tb testing.TB) (*store.Store, config.Database) {
	tb.Helper()
	if !storetest.Postgres(tb) {
		tb.Skip("cluster mode needs Postgres: set " + storetest.EnvDatabaseURL)
	}
	cfg := storetest.Config(tb)
	st := storetest.OpenConfig(tb, cfg)
	if err := st.EnableDoorbell(); err != nil {
		tb.Fatal(err)
	}
	return st, cfg
}

func TestEnableDoorbellNeedsPostgres(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	err := st.EnableDoorbell()
	if (st.Dialect() == "postgres") != (err == nil) {
		t.Fatalf("EnableDoorbell on %s: %v", st.Dialect(), err)
	}
	if st.Dialect() == "sqlite" {
		if err := st.Broadcast(context.Background(), notify.Doorbell{Kind: notify.BellSession, Session: 1}); err == nil {
			t.Fatal("Broadcast without the doorbell succeeded")
		}
	}
}

func TestDoorbellsOfWrites(t *testing.T) {
	t.Parallel()
	st, cfg := openCluster(t)
	b := listen(t, cfg)
	ctx := context.Background()
	u := storetest.User(t, st, "alice")

	n := insert(t, st, u.ID, "one")
	if d := b.next(t); d.Kind != notify.BellNew || !slices.Equal(d.Rows, []notify.BellRow{{User: u.ID, ID: n.ID, Unread: 1}}) {
		t.Fatalf("insert rang %+v", d)
	}
	if _, _, err := st.SetRead(ctx, u.ID, n.ID, true, t0); err != nil {
		t.Fatal(err)
	}
	if d := b.next(t); !reflect.DeepEqual(d, notify.Doorbell{Kind: notify.BellUpdated, User: u.ID, ID: n.ID, Unread: 0}) {
		t.Fatalf("set read rang %+v", d)
	}
	n2 := insert(t, st, u.ID, "two")
	b.next(t)
	if _, _, err := st.MarkAllRead(ctx, u.ID, n2.ID, t0); err != nil {
		t.Fatal(err)
	}
	if d := b.next(t); d.Kind != notify.BellReadAll || d.UpTo == nil || *d.UpTo != n2.ID || d.Unread != 0 {
		t.Fatalf("read all rang %+v", d)
	}
	if _, _, err := st.MarkAllRead(ctx, u.ID, 0, t0); err != nil {
		t.Fatal(err)
	}
	if d := b.next(t); d.Kind != notify.BellReadAll || d.UpTo != nil {
		t.Fatalf("read all without up_to rang %+v", d)
	}
	if _, err := st.DeleteNotification(ctx, u.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	if d := b.next(t); !reflect.DeepEqual(d, notify.Doorbell{Kind: notify.BellDeleted, User: u.ID, ID: n.ID}) {
		t.Fatalf("delete rang %+v", d)
	}

	t.Run("failed writes ring nothing", func(t *testing.T) {
		_, _, err := st.SetRead(ctx, u.ID, n.ID, true, t0) // deleted above
		wantCode(t, err, notify.ENOTFOUND)
		_, err = st.DeleteNotification(ctx, u.ID, n.ID)
		wantCode(t, err, notify.ENOTFOUND)
		rows, _, err := storetest.InsertNotifications(ctx, st, []int64{u.ID + 1000}, notify.NewNotification{Title: "x"}, t0)
		if err != nil || len(rows) != 0 {
			t.Fatalf("insert for no user: %v, %v", rows, err)
		}
		b.none(t)
	})

	t.Run("broadcast", func(t *testing.T) {
		small := notify.Event{Type: "progress", Data: json.RawMessage(`{"p":1}`)}
		bigData, _ := json.Marshal(strings.Repeat("é", 6000)) // 12 KB encoded
		big := notify.Event{Type: "big", Data: bigData}
		err := st.Broadcast(ctx,
			notify.Doorbell{Kind: notify.BellSession, Session: 42},
			notify.Doorbell{Kind: notify.BellEvent, User: u.ID, Event: &small},
			notify.Doorbell{Kind: notify.BellEvent, User: u.ID, Event: &big})
		if err != nil {
			t.Fatal(err)
		}
		if d := b.next(t); !reflect.DeepEqual(d, notify.Doorbell{Kind: notify.BellSession, Session: 42}) {
			t.Fatalf("logout rang %+v", d)
		}
		if d := b.next(t); d.Kind != notify.BellEvent || d.User != u.ID || d.Event.Type != "progress" || string(d.Event.Data) != `{"p":1}` {
			t.Fatalf("event rang %+v", d)
		}
		d := b.next(t)
		if d.Kind != notify.BellEventRow || d.User != u.ID || d.ID == 0 {
			t.Fatalf("big event rang %+v", d)
		}
		uid, e, err := st.ClusterEvent(ctx, d.ID)
		if err != nil || uid != u.ID || e.Type != "big" || string(e.Data) != string(bigData) {
			t.Fatalf("ClusterEvent = %d, %s %d bytes, %v", uid, e.Type, len(e.Data), err)
		}
		// The sweep keeps young rows and deletes old ones.
		if n, err := st.SweepClusterEvents(ctx, time.Now().Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("sweep of young rows = %d, %v", n, err)
		}
		if n, err := st.SweepClusterEvents(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v", n, err)
		}
		_, _, err = st.ClusterEvent(ctx, d.ID)
		wantCode(t, err, notify.ENOTFOUND)
	})
}

func TestDoorbellBulkInsertSplit(t *testing.T) {
	t.Parallel()
	st, cfg := openCluster(t)
	b := listen(t, cfg)
	userIDs := make([]int64, notify.MaxBulkUsers)
	for i := range userIDs {
		userIDs[i] = storetest.User(t, st, fmt.Sprintf("user%04d", i)).ID
	}
	rows, _, err := storetest.InsertNotifications(context.Background(), st, userIDs, notify.NewNotification{Title: "all"}, t0)
	if err != nil || len(rows) != len(userIDs) {
		t.Fatalf("insert: %d rows, %v", len(rows), err)
	}
	var got []notify.BellRow
	chunks := 0
	for len(got) < len(rows) {
		d := b.next(t)
		if d.Kind != notify.BellNew {
			t.Fatalf("rang %+v", d)
		}
		got = append(got, d.Rows...)
		chunks++
	}
	if chunks < 2 {
		t.Fatalf("%d rows in %d payload: not split", len(got), chunks)
	}
	for i, r := range got {
		if r.User != rows[i].UserID || r.ID != rows[i].ID || r.Unread != 1 {
			t.Fatalf("row %d = %+v, want user %d id %d", i, r, rows[i].UserID, rows[i].ID)
		}
	}
	b.none(t)
}

func TestDoorbellOrderIsIDOrderPerUser(t *testing.T) {
	t.Parallel()
	// Doorbells are sent inside the committing transaction, so they arrive
	// in commit order; per user that must also be id order, or a socket
	// that got id 7 would drop id 6 arriving after it.
	st, cfg := openCluster(t)
	b := listen(t, cfg)
	alice := storetest.User(t, st, "alice")
	bob := storetest.User(t, st, "bob")
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				userIDs := []int64{alice.ID}
				if w%2 == 1 {
					userIDs = []int64{bob.ID, alice.ID}
				}
				if _, _, err := storetest.InsertNotifications(context.Background(), st, userIDs, notify.NewNotification{Title: "x"}, t0); err != nil {
					t.Errorf("insert: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	last := map[int64]int64{}
	seen := 0
	for seen < workers*each {
		for _, r := range b.next(t).Rows {
			if r.ID <= last[r.User] {
				t.Fatalf("user %d: doorbell for id %d after id %d", r.User, r.ID, last[r.User])
			}
			last[r.User] = r.ID
			if r.User == alice.ID {
				seen++
			}
		}
	}
}
