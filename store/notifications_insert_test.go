package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// item is a NewItem titled title for userID.
func item(userID int64, title string) notify.NewItem {
	return notify.NewItem{UserID: userID, NewNotification: notify.NewNotification{Title: title, Content: "c " + title}}
}

// storedByID returns every notification of userIDs, by id.
func storedByID(tb testing.TB, st *store.Store, userIDs ...int64) map[int64]notify.Notification {
	tb.Helper()
	out := map[int64]notify.Notification{}
	for _, uid := range userIDs {
		var before int64
		for {
			page, more, err := st.ListNotifications(context.Background(), uid, notify.ListQuery{Limit: 100, Before: before})
			if err != nil {
				tb.Fatal(err)
			}
			for _, n := range page {
				out[n.ID] = n
			}
			if !more {
				break
			}
			before = page[len(page)-1].ID
		}
	}
	return out
}

// TestInsertBatch stores different notifications, several per user, in
// one call: each item gets its own row, ids follow the items per user,
// and each row carries its user's unread count just after it.
func TestInsertBatch(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	alice := storetest.User(t, st, "alice").ID
	bob := storetest.User(t, st, "bob").ID
	unknown := bob + 1000
	insert(t, st, alice, "earlier") // alice starts with one unread

	tests := []struct {
		name       string
		items      []notify.NewItem
		wantUnread []int64 // per item; 0 with no row
	}{
		{"users repeated, one unknown", []notify.NewItem{
			item(bob, "b1"), item(alice, "a1"), item(unknown, "x"), item(alice, "a2"), item(bob, "b2"), item(alice, "a3"),
		}, []int64{1, 2, 0, 3, 2, 4}},
		{"only unknown users", []notify.NewItem{item(unknown, "y")}, []int64{0}},
		{"empty", nil, nil},
		// Past one INSERT statement (500 rows): the order holds across
		// statements.
		{"several statements", manyItems(alice, bob, 1100), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := storedByID(t, st, alice, bob)
			unread := map[int64]int64{}
			for _, n := range before {
				if !n.Read {
					unread[n.UserID]++
				}
			}
			got, _, err := st.InsertBatch(context.Background(), tt.items, nil, t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.items) {
				t.Fatalf("%d results for %d items", len(got), len(tt.items))
			}
			stored := storedByID(t, st, alice, bob)
			last := map[int64]int64{}
			created := 0
			for i, r := range got {
				it := tt.items[i]
				if it.UserID == unknown {
					if r.ID != 0 {
						t.Fatalf("item %d for an unknown user got row %d", i, r.ID)
					}
					continue
				}
				created++
				unread[it.UserID]++
				if tt.wantUnread != nil && r.Unread != tt.wantUnread[i] {
					t.Errorf("item %d unread = %d, want %d", i, r.Unread, tt.wantUnread[i])
				}
				if r.Unread != unread[it.UserID] {
					t.Fatalf("item %d unread = %d, want %d", i, r.Unread, unread[it.UserID])
				}
				if r.ID <= last[it.UserID] {
					t.Fatalf("item %d id %d not above the user's previous %d", i, r.ID, last[it.UserID])
				}
				last[it.UserID] = r.ID
				want := notify.Notification{ID: r.ID, UserID: it.UserID, Title: it.Title, Content: it.Content,
					Style: notify.StyleInfo, CreatedAt: t0.Truncate(time.Microsecond)}
				if !sameNotification(r.Notification, want) || !sameNotification(stored[r.ID], want) {
					t.Fatalf("item %d: returned %+v, stored %+v, want %+v", i, r.Notification, stored[r.ID], want)
				}
			}
			if len(stored) != len(before)+created {
				t.Fatalf("%d rows stored, want %d", len(stored)-len(before), created)
			}
		})
	}
}

// manyItems alternates n items between two users.
func manyItems(a, b int64, n int) []notify.NewItem {
	out := make([]notify.NewItem, n)
	for i := range out {
		out[i] = item([]int64{a, b}[i%2], fmt.Sprintf("m%d", i))
	}
	return out
}

// TestInsertBatchAtomic: an item the database refuses fails the whole
// batch, the rows before it included.
func TestInsertBatchAtomic(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	alice := storetest.User(t, st, "alice").ID
	items := manyItems(alice, alice, 700)
	items[650].Style = "shouting" // in the second INSERT statement
	if _, _, err := st.InsertBatch(context.Background(), items, nil, t0); err == nil {
		t.Fatal("InsertBatch with a bad style succeeded")
	}
	if n := len(storedByID(t, st, alice)); n != 0 {
		t.Fatalf("%d rows stored by a failed batch", n)
	}
}

func TestInsertNotifications(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	carol := storetest.User(t, st, "carol")
	insert(t, st, bob.ID, "bob already has one")
	unknown := carol.ID + 1000

	tests := []struct {
		name       string
		userIDs    []int64
		style      notify.Style
		wantUsers  []int64
		wantCounts map[int64]int64
	}{
		{"one user", []int64{alice.ID}, notify.StyleWarning, []int64{alice.ID}, map[int64]int64{alice.ID: 1}},
		{"several users", []int64{alice.ID, bob.ID, carol.ID}, notify.StyleError,
			[]int64{alice.ID, bob.ID, carol.ID}, map[int64]int64{alice.ID: 2, bob.ID: 2, carol.ID: 1}},
		{"unknown users skipped", []int64{-1, 0, alice.ID, unknown}, notify.StyleInfo,
			[]int64{alice.ID}, map[int64]int64{alice.ID: 3}},
		{"only unknown users", []int64{unknown, unknown + 1}, notify.StyleInfo, nil, map[int64]int64{}},
		{"empty list", nil, notify.StyleInfo, nil, map[int64]int64{}},
		{"repeated ids get one copy", []int64{carol.ID, carol.ID}, notify.StyleInfo,
			[]int64{carol.ID}, map[int64]int64{carol.ID: 2}},
		{"empty style is info", []int64{bob.ID}, "", []int64{bob.ID}, map[int64]int64{bob.ID: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := notify.NewNotification{Title: "Title: " + tt.name, Content: "Content ✓ " + tt.name, Style: tt.style}
			rows, counts, err := storetest.InsertNotifications(ctx, st, tt.userIDs, in, t0)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			var users []int64
			for _, r := range rows {
				users = append(users, r.UserID)
			}
			if !slices.Equal(users, tt.wantUsers) {
				t.Fatalf("rows for users %v, want %v", users, tt.wantUsers)
			}
			wantStyle := tt.style
			if wantStyle == "" {
				wantStyle = notify.StyleInfo
			}
			for _, r := range rows {
				if r.ID <= 0 || r.Title != in.Title || r.Content != in.Content || r.Style != wantStyle ||
					r.Read || r.ReadAt != nil || !r.CreatedAt.Equal(t0.Truncate(time.Microsecond)) || r.CreatedAt.Location() != time.UTC {
					t.Fatalf("row %+v from %+v", r, in)
				}
				// What was returned is what is stored.
				stored := listAll(t, st, r.UserID)
				if got := stored[0]; !sameNotification(got, r) {
					t.Fatalf("stored %+v, returned %+v", got, r)
				}
			}
			if !maps.Equal(counts, tt.wantCounts) {
				t.Fatalf("counts = %v, want %v", counts, tt.wantCounts)
			}
		})
	}
}

func TestInsertNotificationsManyUsers(t *testing.T) {
	t.Parallel()
	// More users than one INSERT batch holds.
	st := storetest.Open(t)
	const n = 501
	userIDs := make([]int64, n)
	for i := range n {
		userIDs[i] = storetest.User(t, st, fmt.Sprintf("user%03d", i)).ID
	}
	rows, counts, err := storetest.InsertNotifications(context.Background(), st, userIDs, notify.NewNotification{Title: "hi"}, t0)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	if len(rows) != n || len(counts) != n {
		t.Fatalf("%d rows, %d counts; want %d", len(rows), len(counts), n)
	}
	seen := map[int64]bool{}
	for i, r := range rows {
		if r.UserID != userIDs[i] || seen[r.ID] || counts[r.UserID] != 1 {
			t.Fatalf("row %d = %+v (count %d)", i, r, counts[r.UserID])
		}
		seen[r.ID] = true
		if got := ids(listAll(t, st, r.UserID)); !slices.Equal(got, []int64{r.ID}) {
			t.Fatalf("user %d has %v, want [%d]", r.UserID, got, r.ID)
		}
	}
}

func TestInsertNotificationsConcurrentOneUser(t *testing.T) {
	t.Parallel()
	// Concurrent inserts for one user get distinct ids, and ids are drawn in
	// commit order: the unread count each insert reads in its transaction
	// equals the number of rows with an id up to its own. Without the
	// per-user lock, a later id could commit first and the counts would not
	// line up with the ids.
	st, u, other := aliceAndBob(t)
	const workers, each = 8, 6
	type result struct{ id, unread int64 }
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []result
	)
	for w := range workers {
		wg.Go(func() {
			for range each {
				// Half the calls are bulk inserts that also lock bob, in
				// a different argument order, to show that the lock
				// order cannot deadlock.
				userIDs := []int64{u.ID}
				if w%2 == 1 {
					userIDs = []int64{other.ID, u.ID}
				}
				rows, counts, err := storetest.InsertNotifications(context.Background(), st, userIDs, notify.NewNotification{Title: "x"}, t0)
				if err != nil {
					t.Errorf("insert: %v", err)
					return
				}
				for _, r := range rows {
					if r.UserID == u.ID {
						mu.Lock()
						results = append(results, result{r.ID, counts[u.ID]})
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(results) != workers*each {
		t.Fatalf("%d inserts, want %d", len(results), workers*each)
	}
	slices.SortFunc(results, func(x, y result) int { return int(x.id - y.id) })
	for i, r := range results {
		if i > 0 && r.id == results[i-1].id {
			t.Fatalf("id %d returned twice", r.id)
		}
		if r.unread != int64(i+1) {
			t.Fatalf("insert of id %d (rank %d) read unread count %d: ids not in commit order", r.id, i+1, r.unread)
		}
	}
	if got := unread(t, st, u.ID); got != workers*each {
		t.Fatalf("unread = %d, want %d", got, workers*each)
	}
}
