package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

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
