package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
)

func TestSetRead(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	a := insertN(t, st, alice.ID, 2)
	b := insert(t, st, bob.ID, "bob's")
	t1 := t0.Add(time.Minute)
	t2 := t0.Add(2 * time.Minute)
	t1Stored := t1.Truncate(time.Microsecond)

	tests := []struct {
		name       string
		userID, id int64
		read       bool
		now        time.Time
		want       string
		wantReadAt *time.Time // when want is ""
		wantUnread int64
	}{
		{"mark read", alice.ID, a[0], true, t1, "", &t1Stored, 1},
		{"mark read again keeps read_at", alice.ID, a[0], true, t2, "", &t1Stored, 1},
		{"mark unread clears read_at", alice.ID, a[0], false, t2, "", nil, 2},
		{"mark unread again", alice.ID, a[0], false, t2, "", nil, 2},
		{"other user's id", alice.ID, b.ID, true, t1, notify.ENOTFOUND, nil, 0},
		{"other user's id, unread", alice.ID, b.ID, false, t1, notify.ENOTFOUND, nil, 0},
		{"missing id", alice.ID, b.ID + 1000, true, t1, notify.ENOTFOUND, nil, 0},
		{"zero id", alice.ID, 0, true, t1, notify.ENOTFOUND, nil, 0},
		{"unknown user", bob.ID + 1000, a[1], true, t1, notify.ENOTFOUND, nil, 0},
		{"second row", alice.ID, a[1], true, t1, "", &t1Stored, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, stamp, err := st.SetRead(ctx, tt.userID, tt.id, tt.read, tt.now)
			count := stamp.Unread
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			if n.ID != tt.id || n.UserID != tt.userID || n.Read != tt.read || count != tt.wantUnread {
				t.Fatalf("got %+v, unread %d; want read %v, unread %d", n, count, tt.read, tt.wantUnread)
			}
			switch {
			case tt.wantReadAt == nil && n.ReadAt != nil:
				t.Fatalf("read_at = %v, want null", n.ReadAt)
			case tt.wantReadAt != nil && (n.ReadAt == nil || !n.ReadAt.Equal(*tt.wantReadAt) || n.ReadAt.Location() != time.UTC):
				t.Fatalf("read_at = %v, want %v", n.ReadAt, tt.wantReadAt)
			}
			if stored := find(t, st, tt.userID, tt.id); !sameNotification(stored, n) {
				t.Fatalf("stored %+v, returned %+v", stored, n)
			}
		})
	}
	// Nothing above touched bob's row.
	if got := find(t, st, bob.ID, b.ID); got.Read || got.ReadAt != nil {
		t.Fatalf("bob's row changed: %+v", got)
	}
}

func TestMarkAllRead(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	a := insertN(t, st, alice.ID, 5)
	b := insertN(t, st, bob.ID, 2)
	if _, _, err := st.SetRead(ctx, alice.ID, a[1], true, t0); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name        string
		userID      int64
		upTo        int64
		wantChanged int64
		wantUnread  int64
		wantRead    []int64 // alice's read ids afterwards
	}{
		{"up to an id", alice.ID, a[2], 2, 2, []int64{a[0], a[1], a[2]}},
		{"same again changes nothing", alice.ID, a[2], 0, 2, []int64{a[0], a[1], a[2]}},
		{"up to another user's newer id", alice.ID, b[1], 2, 0, a},
		{"all when nothing is left", alice.ID, 0, 0, 0, a},
		{"unknown user", bob.ID + 1000, 0, 0, 0, a},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			changed, stamp, err := st.MarkAllRead(ctx, s.userID, s.upTo, t0)
			count := stamp.Unread
			if err != nil {
				t.Fatalf("mark all read: %v", err)
			}
			if changed != s.wantChanged || count != s.wantUnread {
				t.Fatalf("changed %d, unread %d; want %d, %d", changed, count, s.wantChanged, s.wantUnread)
			}
			var read []int64
			for _, n := range listAll(t, st, alice.ID) {
				if n.Read {
					read = append(read, n.ID)
					if n.ReadAt == nil {
						t.Fatalf("read row %d has no read_at", n.ID)
					}
				}
			}
			slices.Sort(read)
			if !slices.Equal(read, s.wantRead) {
				t.Fatalf("read ids %v, want %v", read, s.wantRead)
			}
		})
	}
	// Marking alice's rows never touched bob's.
	if got := unread(t, st, bob.ID); got != 2 {
		t.Fatalf("bob's unread = %d, want 2", got)
	}
	t.Run("all", func(t *testing.T) {
		changed, stamp, err := st.MarkAllRead(ctx, bob.ID, 0, t0)
		count := stamp.Unread
		if err != nil || changed != 2 || count != 0 {
			t.Fatalf("changed %d, unread %d, %v; want 2, 0", changed, count, err)
		}
	})
}

func TestDeleteNotification(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	a := insertN(t, st, alice.ID, 3)
	b := insert(t, st, bob.ID, "bob's")
	if _, _, err := st.SetRead(ctx, alice.ID, a[2], true, t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		userID, id int64
		want       string
		wantUnread int64
	}{
		{"unread row", alice.ID, a[0], "", 1},
		{"read row", alice.ID, a[2], "", 1},
		{"already deleted", alice.ID, a[0], notify.ENOTFOUND, 0},
		{"other user's id", alice.ID, b.ID, notify.ENOTFOUND, 0},
		{"missing id", alice.ID, b.ID + 1000, notify.ENOTFOUND, 0},
		{"negative id", alice.ID, -a[1], notify.ENOTFOUND, 0},
		{"last row", alice.ID, a[1], "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stamp, err := st.DeleteNotification(ctx, tt.userID, tt.id)
			count := stamp.Unread
			wantCode(t, err, tt.want)
			if err == nil && count != tt.wantUnread {
				t.Fatalf("unread = %d, want %d", count, tt.wantUnread)
			}
		})
	}
	if got := ids(listAll(t, st, alice.ID)); len(got) != 0 {
		t.Fatalf("alice still has %v", got)
	}
	if got := ids(listAll(t, st, bob.ID)); !slices.Equal(got, []int64{b.ID}) {
		t.Fatalf("bob has %v, want [%d]", got, b.ID)
	}
	// Ids are never reused, even for the newest row once deleted: clients
	// resume from them.
	if n := insert(t, st, alice.ID, "after deletes"); n.ID <= b.ID {
		t.Fatalf("new id %d reuses a deleted one (max was %d)", n.ID, b.ID)
	}
}

func TestUserIsolation(t *testing.T) {
	t.Parallel()
	// User A can neither read, change nor delete user B's rows.
	st, a, b := aliceAndBob(t)
	ctx := context.Background()
	bRow := insert(t, st, b.ID, "secret of bob")
	insert(t, st, a.ID, "alice's")

	if got, _, err := st.ListNotifications(ctx, a.ID, notify.ListQuery{Limit: 200, After: bRow.ID - 1}); err != nil || slices.Contains(ids(got), bRow.ID) {
		t.Fatalf("alice lists %v, %v", ids(got), err)
	}
	_, _, err := st.SetRead(ctx, a.ID, bRow.ID, true, t0)
	wantCode(t, err, notify.ENOTFOUND)
	_, err = st.DeleteNotification(ctx, a.ID, bRow.ID)
	wantCode(t, err, notify.ENOTFOUND)
	if _, _, err := st.MarkAllRead(ctx, a.ID, 0, t0); err != nil {
		t.Fatal(err)
	}
	if got := find(t, st, b.ID, bRow.ID); !sameNotification(got, bRow) {
		t.Fatalf("bob's row is now %+v, was %+v", got, bRow)
	}
	if got := unread(t, st, b.ID); got != 1 {
		t.Fatalf("bob's unread = %d, want 1", got)
	}
}

// find returns notification id of userID, failing tb if it is not there.
func find(tb testing.TB, st *store.Store, userID, id int64) notify.Notification {
	tb.Helper()
	got, _, err := st.ListNotifications(context.Background(), userID, notify.ListQuery{Limit: 1, Before: id + 1})
	if err != nil || len(got) != 1 || got[0].ID != id {
		tb.Fatalf("find %d of user %d: %v, %v", id, userID, ids(got), err)
	}
	return got[0]
}
