package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

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

func TestListNotifications(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	// Interleave bob's rows so alice's ids are not contiguous.
	var a []int64
	for i := range 7 {
		a = append(a, insert(t, st, alice.ID, fmt.Sprintf("a%d", i)).ID)
		insert(t, st, bob.ID, fmt.Sprintf("b%d", i))
	}
	for _, id := range []int64{a[1], a[5]} {
		if _, _, err := st.SetRead(ctx, alice.ID, id, true, t0); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name     string
		userID   int64
		q        notify.ListQuery
		want     []int64
		wantMore bool
	}{
		{"newest first", alice.ID, notify.ListQuery{Limit: 3}, []int64{a[6], a[5], a[4]}, true},
		{"exactly all", alice.ID, notify.ListQuery{Limit: 7}, []int64{a[6], a[5], a[4], a[3], a[2], a[1], a[0]}, false},
		{"before, more left", alice.ID, notify.ListQuery{Limit: 3, Before: a[4]}, []int64{a[3], a[2], a[1]}, true},
		{"before, last page", alice.ID, notify.ListQuery{Limit: 3, Before: a[3]}, []int64{a[2], a[1], a[0]}, false},
		{"before the first", alice.ID, notify.ListQuery{Limit: 3, Before: a[0]}, []int64{}, false},
		{"after, oldest first", alice.ID, notify.ListQuery{Limit: 3, After: a[1]}, []int64{a[2], a[3], a[4]}, true},
		{"after, last page", alice.ID, notify.ListQuery{Limit: 3, After: a[4]}, []int64{a[5], a[6]}, false},
		{"after the newest", alice.ID, notify.ListQuery{Limit: 3, After: a[6]}, []int64{}, false},
		{"forward from the start", alice.ID, notify.ListQuery{Limit: 3, Forward: true}, []int64{a[0], a[1], a[2]}, true},
		{"forward from the start, unread", alice.ID, notify.ListQuery{Limit: 2, Forward: true, UnreadOnly: true}, []int64{a[0], a[2]}, true},
		{"after and before", alice.ID, notify.ListQuery{Limit: 10, After: a[1], Before: a[4]}, []int64{a[2], a[3]}, false},
		{"unread only", alice.ID, notify.ListQuery{Limit: 10, UnreadOnly: true}, []int64{a[6], a[4], a[3], a[2], a[0]}, false},
		{"unread only, paged", alice.ID, notify.ListQuery{Limit: 2, UnreadOnly: true, Before: a[4]}, []int64{a[3], a[2]}, true},
		{"unread only, after", alice.ID, notify.ListQuery{Limit: 2, UnreadOnly: true, After: a[0]}, []int64{a[2], a[3]}, true},
		{"limit 0 is clamped to 1", alice.ID, notify.ListQuery{Limit: 0}, []int64{a[6]}, true},
		{"limit above 200 is clamped", alice.ID, notify.ListQuery{Limit: 1000}, []int64{a[6], a[5], a[4], a[3], a[2], a[1], a[0]}, false},
		{"other user sees only theirs", bob.ID, notify.ListQuery{Limit: 100}, nil, false},
		{"unknown user", bob.ID + 1000, notify.ListQuery{Limit: 10}, []int64{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := st.ListNotifications(ctx, tt.userID, tt.q)
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			for _, n := range got {
				if n.UserID != tt.userID {
					t.Fatalf("row %+v of another user", n)
				}
			}
			if tt.want == nil { // bob's: only check ownership and count
				if len(got) != 7 || more {
					t.Fatalf("got %d rows, more %v; want 7, false", len(got), more)
				}
				return
			}
			if !slices.Equal(ids(got), tt.want) || more != tt.wantMore {
				t.Fatalf("got %v, more %v; want %v, more %v", ids(got), more, tt.want, tt.wantMore)
			}
		})
	}
	t.Run("read fields", func(t *testing.T) {
		got, _, err := st.ListNotifications(ctx, alice.ID, notify.ListQuery{Limit: 1, Before: a[2]})
		if err != nil || len(got) != 1 {
			t.Fatalf("list: %v, %v", got, err)
		}
		n := got[0]
		if n.ID != a[1] || !n.Read || n.ReadAt == nil || !n.ReadAt.Equal(t0.Truncate(time.Microsecond)) || n.ReadAt.Location() != time.UTC {
			t.Fatalf("read row = %+v", n)
		}
	})
}

func TestUnreadCountAndMaxID(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	empty := storetest.User(t, st, "empty")
	a := insertN(t, st, alice.ID, 3)
	b := insertN(t, st, bob.ID, 2)
	if _, _, err := st.SetRead(ctx, alice.ID, a[0], true, t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		userID     int64
		wantUnread int64
		wantMax    int64
	}{
		{"alice", alice.ID, 2, a[2]},
		{"bob", bob.ID, 2, b[1]},
		{"no notifications", empty.ID, 0, 0},
		{"unknown user", empty.ID + 1000, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unread(t, st, tt.userID); got != tt.wantUnread {
				t.Fatalf("unread = %d, want %d", got, tt.wantUnread)
			}
			got, err := st.MaxNotificationID(ctx, tt.userID)
			if err != nil || got != tt.wantMax {
				t.Fatalf("max id = %d, %v; want %d", got, err, tt.wantMax)
			}
		})
	}
}

// listAll returns every notification of userID, newest first.
func listAll(tb testing.TB, st *store.Store, userID int64) []notify.Notification {
	tb.Helper()
	got, _, err := st.ListNotifications(context.Background(), userID, notify.ListQuery{Limit: 200})
	if err != nil {
		tb.Fatalf("list %d: %v", userID, err)
	}
	return got
}

// sameNotification reports whether a and b have the same fields, times
// compared as instants.
func sameNotification(a, b notify.Notification) bool {
	sameReadAt := (a.ReadAt == nil) == (b.ReadAt == nil) && (a.ReadAt == nil || a.ReadAt.Equal(*b.ReadAt))
	return a.ID == b.ID && a.UserID == b.UserID && a.Title == b.Title && a.Content == b.Content &&
		a.Style == b.Style && a.Read == b.Read && a.CreatedAt.Equal(b.CreatedAt) && sameReadAt
}
