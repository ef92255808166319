package store_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// realUnread counts userID's unread notifications by listing them, as a
// client would, independently of the kept count.
func realUnread(tb testing.TB, st *store.Store, userID int64) int64 {
	tb.Helper()
	var n, before int64
	for {
		page, more, err := st.ListNotifications(context.Background(), userID,
			notify.ListQuery{Limit: 200, UnreadOnly: true, Before: before})
		if err != nil {
			tb.Fatalf("list unread of %d: %v", userID, err)
		}
		n += int64(len(page))
		if !more {
			return n
		}
		before = page[len(page)-1].ID
	}
}

// TestUnreadCountNoDrift runs many concurrent inserts (single and bulk),
// reads, unreads, read-alls, deletes and retention sweeps on a few users,
// then checks that each user's kept unread count equals the number of
// unread rows it has. Any write path that forgets the count, counts a
// no-op, or races with another writer of the same user makes them differ.
func TestUnreadCountNoDrift(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	users := []int64{
		storetest.User(t, st, "alice").ID,
		storetest.User(t, st, "bob").ID,
		storetest.User(t, st, "carol").ID,
	}
	const (
		workers = 8
		ops     = 60
		// cutoff splits the rows' creation and read times (t0 minus 0
		// to 59 minutes) roughly in half for the retention sweeps.
		cutoff = 30 * time.Minute
	)

	var (
		mu    sync.Mutex
		ids   = map[int64][]int64{} // ids inserted per user (some deleted since)
		swept int64
	)
	remember := func(rows []notify.Inserted) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rows {
			if r.ID != 0 {
				ids[r.UserID] = append(ids[r.UserID], r.ID)
			}
		}
	}
	pick := func(r *rand.Rand, user int64) int64 {
		mu.Lock()
		defer mu.Unlock()
		if len(ids[user]) == 0 {
			return 1
		}
		return ids[user][r.IntN(len(ids[user]))]
	}
	// Deleted rows and ids of other users are ENOTFOUND, which is fine.
	// So is EUNAVAILABLE: on a loaded box SQLite's one writer can keep a
	// call waiting past database.query_timeout, and whether such a call
	// wrote or not, the counts checked below must still agree.
	var unavailable sync.Map
	check := func(op string, err error) {
		switch code := notify.ErrorCode(err); code {
		case "", notify.ENOTFOUND:
		case notify.EUNAVAILABLE:
			unavailable.Store(op, err)
		default:
			t.Errorf("%s: %v", op, err)
		}
	}

	var wg sync.WaitGroup
	for w := range workers {
		r := rand.New(rand.NewPCG(uint64(w), 42))
		wg.Go(func() {
			for range ops {
				user := users[r.IntN(len(users))]
				at := t0.Add(-time.Duration(r.IntN(60)) * time.Minute)
				switch op := r.IntN(10); op {
				case 0, 1: // single insert
					rows, _, err := st.InsertBatch(ctx, []notify.NewItem{{UserID: user, NewNotification: notify.NewNotification{Title: "one"}}}, nil, at)
					check("insert", err)
					remember(rows)
				case 2: // bulk: every user, one twice, and a user that does not exist
					items := []notify.NewItem{{UserID: 1 << 40, NewNotification: notify.NewNotification{Title: "nobody"}}}
					for _, u := range []int64{users[0], users[1], users[2], user} {
						items = append(items, notify.NewItem{UserID: u, NewNotification: notify.NewNotification{Title: "bulk"}})
					}
					rows, _, err := st.InsertBatch(ctx, items, nil, at)
					check("bulk insert", err)
					remember(rows)
				case 3, 4:
					_, _, err := st.SetRead(ctx, user, pick(r, user), true, at)
					check("read", err)
				case 5:
					_, _, err := st.SetRead(ctx, user, pick(r, user), false, at)
					check("unread", err)
				case 6:
					upTo := int64(0)
					if r.IntN(2) == 0 {
						upTo = pick(r, user)
					}
					_, _, err := st.MarkAllRead(ctx, user, upTo, at)
					check("read all", err)
				case 7:
					_, err := st.DeleteNotification(ctx, user, pick(r, user))
					check("delete", err)
				case 8, 9: // the retention sweep, of unread rows or of read ones
					sweep, name := st.DeleteUnreadBefore, "sweep unread"
					if op == 9 {
						sweep, name = st.DeleteReadBefore, "sweep read"
					}
					n, err := sweep(ctx, t0.Add(-cutoff), 3)
					check(name, err)
					mu.Lock()
					swept += n
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	unavailable.Range(func(op, err any) bool {
		t.Logf("%s timed out at least once (load): %v", op, err)
		return true
	})
	if swept == 0 {
		t.Fatal("the retention sweeps deleted nothing: the test does not exercise them")
	}
	for _, u := range users {
		counts, err := st.UnreadCounts(ctx, []int64{u})
		if err != nil {
			t.Fatal(err)
		}
		want := realUnread(t, st, u)
		if got := unread(t, st, u); got != want || counts[u] != want {
			t.Errorf("user %d: kept unread count %d (UnreadCounts %d), %d unread rows", u, got, counts[u], want)
		}
	}
}
