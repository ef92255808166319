package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

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

func TestNotificationsByIDs(t *testing.T) {
	t.Parallel()
	st, a, b := aliceAndBob(t)
	ia := insertN(t, st, a.ID, 3)
	ib := insertN(t, st, b.ID, 2)
	got, err := st.NotificationsByIDs(context.Background(), []int64{ib[1], ia[2], ia[0], ia[0], ia[2] + 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{ia[0], ia[2], ib[1]}; !slices.Equal(ids(got), want) {
		t.Fatalf("ids = %v, want %v (ascending, distinct, missing left out)", ids(got), want)
	}
	if got[0].UserID != a.ID || got[0].Title != "n1" || !got[0].CreatedAt.Equal(t0.Truncate(1000)) {
		t.Fatalf("row = %+v", got[0])
	}
}

// More ids than one padded IN list holds (256 on Postgres) go as one
// array: the same rows, ascending, distinct, missing left out.
func TestNotificationsByIDsLarge(t *testing.T) {
	t.Parallel()
	st, a, _ := aliceAndBob(t)
	items := slices.Repeat([]notify.NewItem{{UserID: a.ID, NewNotification: notify.NewNotification{Title: "t", Content: "c", Style: notify.StyleInfo}}}, 300)
	rows, _, err := st.InsertBatch(context.Background(), items, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	var want, ask []int64
	for i := len(rows) - 1; i >= 0; i-- {
		want = append(want, rows[i].ID)
		ask = append(ask, rows[i].ID, rows[i].ID) // descending, each twice
	}
	ask = append(ask, want[0]+1000)
	slices.Sort(want)
	got, err := st.NotificationsByIDs(context.Background(), ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 300 || !slices.Equal(ids(got), want) {
		t.Fatalf("%d ids, want the %d inserted (ascending, distinct, missing left out)", len(got), len(want))
	}
}

func TestNotificationsAfter(t *testing.T) {
	t.Parallel()
	st, a, b := aliceAndBob(t)
	ctx := context.Background()
	c := storetest.User(t, st, "carol")
	ia := insertN(t, st, a.ID, 5)
	ib := insertN(t, st, b.ID, 2)
	insertN(t, st, c.ID, 3) // carol has no socket here

	cases := []struct {
		name  string
		after map[int64]int64
		limit int
		want  []int64
	}{
		{"from each floor", map[int64]int64{a.ID: ia[2], b.ID: 0}, 10, []int64{ia[3], ia[4], ib[0], ib[1]}},
		{"limit per user", map[int64]int64{a.ID: 0, b.ID: 0}, 2, []int64{ia[0], ia[1], ib[0], ib[1]}},
		{"nothing new", map[int64]int64{a.ID: ia[4]}, 10, nil},
		{"no users", map[int64]int64{}, 10, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.NotificationsAfter(ctx, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("ids = %v, want %v", ids(got), want)
			}
		})
	}

	t.Run("many users", func(t *testing.T) {
		// More users than one query takes.
		after := map[int64]int64{a.ID: ia[3]}
		for i := int64(1); i <= 1200; i++ {
			after[c.ID+i*7] = 0 // no such users
		}
		got, err := st.NotificationsAfter(ctx, after, 10)
		if err != nil || !slices.Equal(ids(got), []int64{ia[4]}) {
			t.Fatalf("ids = %v, %v", ids(got), err)
		}
	})
}

func TestUnreadCountsAndSessions(t *testing.T) {
	t.Parallel()
	st, a, b := aliceAndBob(t)
	ctx := context.Background()
	insertN(t, st, a.ID, 3)
	counts, err := st.UnreadCounts(ctx, []int64{a.ID, b.ID})
	if err != nil || counts[a.ID] != 3 || counts[b.ID] != 0 || len(counts) != 2 {
		t.Fatalf("UnreadCounts = %v, %v", counts, err)
	}

	s1, err := st.CreateSession(ctx, notify.Session{UserID: a.ID, SecretHash: []byte("h1"), CreatedAt: t0, ExpiresAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := st.CreateSession(ctx, notify.Session{UserID: b.ID, SecretHash: []byte("h2"), CreatedAt: t0, ExpiresAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSession(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	got, err := st.ExistingSessions(ctx, []int64{s1.ID, s2.ID, s2.ID + 100})
	if err != nil || !got[s1.ID] || got[s2.ID] || len(got) != 1 {
		t.Fatalf("ExistingSessions = %v, %v", got, err)
	}
}
