package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestDeleteBefore(t *testing.T) {
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	cutoff := t0
	old := cutoff.Add(-48 * time.Hour)
	var zero time.Time

	readOld := storetest.InsertAt(t, st, alice.ID, old, cutoff.Add(-time.Second))              // read before the cutoff
	readJustAfter := storetest.InsertAt(t, st, alice.ID, old, cutoff.Add(time.Microsecond))    // read just after it
	readNew := storetest.InsertAt(t, st, bob.ID, cutoff, cutoff.Add(time.Hour))                // read recently
	readOfBob := storetest.InsertAt(t, st, bob.ID, old, old)                                   // another user's old read one
	unreadOld := storetest.InsertAt(t, st, alice.ID, old, zero)                                // unread, created long ago
	unreadJustAfter := storetest.InsertAt(t, st, alice.ID, cutoff.Add(time.Microsecond), zero) // unread, created just after
	unreadAtCutoff := storetest.InsertAt(t, st, bob.ID, cutoff, zero)                          // unread, created at the cutoff

	n, err := st.DeleteReadBefore(ctx, cutoff, 100)
	wantCode(t, err, "")
	if n != 2 {
		t.Fatalf("DeleteReadBefore deleted %d, want 2 (ids %d, %d)", n, readOld, readOfBob)
	}
	if got, want := storetest.Remaining(t, st, alice.ID), []int64{readJustAfter, unreadOld, unreadJustAfter}; !slices.Equal(got, want) {
		t.Fatalf("alice has %v after deleting read, want %v", got, want)
	}
	if got, want := storetest.Remaining(t, st, bob.ID), []int64{readNew, unreadAtCutoff}; !slices.Equal(got, want) {
		t.Fatalf("bob has %v after deleting read, want %v", got, want)
	}

	n, err = st.DeleteUnreadBefore(ctx, cutoff, 100)
	wantCode(t, err, "")
	if n != 1 {
		t.Fatalf("DeleteUnreadBefore deleted %d, want 1 (id %d)", n, unreadOld)
	}
	if got, want := storetest.Remaining(t, st, alice.ID), []int64{readJustAfter, unreadJustAfter}; !slices.Equal(got, want) {
		t.Fatalf("alice has %v after deleting unread, want %v", got, want)
	}
	if got, want := storetest.Remaining(t, st, bob.ID), []int64{readNew, unreadAtCutoff}; !slices.Equal(got, want) {
		t.Fatalf("bob has %v after deleting unread, want %v", got, want)
	}
	// Deleting unread rows changes the unread count the API reports.
	if got := unread(t, st, alice.ID); got != 1 {
		t.Errorf("alice unread = %d, want 1", got)
	}
}

func TestDeleteBeforeBatches(t *testing.T) {
	type deleteFunc func(context.Context, time.Time, int) (int64, error)
	tests := []struct {
		name string
		read bool // the 5 old rows are read (else unread); one of the other kind stays
		del  func(*store.Store) deleteFunc
	}{
		{"read", true, func(st *store.Store) deleteFunc { return st.DeleteReadBefore }},
		{"unread", false, func(st *store.Store) deleteFunc { return st.DeleteUnreadBefore }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			u := storetest.User(t, st, "alice")
			old := t0.Add(-time.Hour)
			var readAt, otherReadAt time.Time
			if tt.read {
				readAt = old
			} else {
				otherReadAt = old
			}
			for range 5 {
				storetest.InsertAt(t, st, u.ID, old, readAt)
			}
			keep := storetest.InsertAt(t, st, u.ID, old, otherReadAt)

			var got []int64
			for range 10 { // bounded: 5 rows in batches of 2 need 3 statements
				n, err := tt.del(st)(context.Background(), t0, 2)
				wantCode(t, err, "")
				got = append(got, n)
				if n == 0 {
					break
				}
			}
			if want := []int64{2, 2, 1, 0}; !slices.Equal(got, want) {
				t.Fatalf("batches deleted %v, want %v", got, want)
			}
			if rest := storetest.Remaining(t, st, u.ID); !slices.Equal(rest, []int64{keep}) {
				t.Fatalf("left %v, want only %d", rest, keep)
			}
		})
	}
}

func TestDBErrorsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	st := storetest.OpenMetrics(t, storetest.Config(t), m)
	ctx := context.Background()
	u := storetest.User(t, st, "alice")

	// Answers about the data are not database errors.
	_, err := st.UserByID(ctx, u.ID+1000)
	wantCode(t, err, notify.ENOTFOUND)
	_, err = st.CreateUser(ctx, "alice", "", t0)
	wantCode(t, err, notify.ECONFLICT)
	if n := testutil.CollectAndCount(reg, "notifyd_db_errors_total"); n != 0 {
		t.Fatalf("%d db error series after not_found and conflict, want 0", n)
	}

	// A closed database is.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = st.UnreadCount(ctx, u.ID)
	wantCode(t, err, notify.EUNAVAILABLE)
	_, err = st.DeleteReadBefore(ctx, t0, 10)
	wantCode(t, err, notify.EUNAVAILABLE)
	// The cluster's reads too: a receiver repairing from a database that
	// is down must show in the same counter.
	_, err = st.NotificationsByIDs(ctx, []int64{1})
	wantCode(t, err, notify.EUNAVAILABLE)
	_, err = st.NotificationsAfter(ctx, map[int64]int64{u.ID: 0}, 10)
	wantCode(t, err, notify.EUNAVAILABLE)
	_, err = st.UnreadCounts(ctx, []int64{u.ID})
	wantCode(t, err, notify.EUNAVAILABLE)
	_, err = st.ExistingSessions(ctx, []int64{1})
	wantCode(t, err, notify.EUNAVAILABLE)
	// And the reads of a connecting socket.
	_, err = st.Position(ctx, u.ID)
	wantCode(t, err, notify.EUNAVAILABLE)
	_, _, err = st.SessionBySecretHash(ctx, []byte("0123456789abcdef0123456789abcdef"))
	wantCode(t, err, notify.EUNAVAILABLE)
	// And the postgres broker's writes.
	_, err = st.StoreEvent(ctx, u.ID, notify.Event{Type: "task_progress", Data: []byte(`{}`)})
	wantCode(t, err, notify.EUNAVAILABLE)
	ops := []string{"unread count", "delete read before",
		"notifications by ids", "notifications after", "unread counts", "existing sessions",
		"position", "session by secret", "store event"}
	if storetest.Postgres(t) {
		wantCode(t, st.Notify(ctx, "notifyd", []string{"x"}), notify.EUNAVAILABLE)
		ops = append(ops, "notify")
	}
	for _, op := range ops {
		if v := metricstest.Value(t, reg, "notifyd_db_errors_total", "op", op, "code", notify.EUNAVAILABLE); v != 1 {
			t.Errorf("db errors for %q = %v, want 1", op, v)
		}
	}
}
