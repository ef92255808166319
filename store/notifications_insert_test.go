package store_test

import (
	"context"
	"fmt"
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
