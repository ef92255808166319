package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// t0 is the clock of the tests: a fixed UTC instant with a sub-microsecond
// part, which the store must drop (Postgres keeps microseconds).
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

// aliceAndBob opens a fresh store with the users alice and bob, the
// setup of most tests: one user to act on, one whose rows must not move.
func aliceAndBob(tb testing.TB) (st *store.Store, alice, bob notify.User) {
	tb.Helper()
	st = storetest.Open(tb)
	return st, storetest.User(tb, st, "alice"), storetest.User(tb, st, "bob")
}

// insert stores one notification titled title for userID and returns it.
func insert(tb testing.TB, st *store.Store, userID int64, title string) notify.Notification {
	tb.Helper()
	rows, _, err := storetest.InsertNotifications(context.Background(), st, []int64{userID},
		notify.NewNotification{Title: title, Style: notify.StyleInfo}, t0)
	if err != nil {
		tb.Fatalf("insert %q for user %d: %v", title, userID, err)
	}
	if len(rows) != 1 {
		tb.Fatalf("insert %q for user %d: got %d rows, want 1", title, userID, len(rows))
	}
	return rows[0]
}

// insertN stores n notifications for userID, titled "n1".."nN", and
// returns their ids in ascending order.
func insertN(tb testing.TB, st *store.Store, userID int64, n int) []int64 {
	tb.Helper()
	ids := make([]int64, n)
	for i := range n {
		ids[i] = insert(tb, st, userID, "n"+strconv.Itoa(i+1)).ID
	}
	return ids
}

// wantCode fails tb unless err carries the notify error code want ("" for
// no error).
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := notify.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// ids returns the ids of ns in order.
func ids(ns []notify.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// unread returns the unread count of userID.
func unread(tb testing.TB, st *store.Store, userID int64) int64 {
	tb.Helper()
	n, err := st.UnreadCount(context.Background(), userID)
	if err != nil {
		tb.Fatalf("unread count of %d: %v", userID, err)
	}
	return n
}

// sameUser reports whether a and b are the same user with the same fields.
func sameUser(a, b notify.User) bool {
	return a.ID == b.ID && a.Username == b.Username && a.PasswordHash == b.PasswordHash &&
		a.CreatedAt.Equal(b.CreatedAt) && a.CreatedAt.Location() == time.UTC && b.CreatedAt.Location() == time.UTC
}

// wantFound checks a lookup of a user: the error has code want, and when
// there is none, u is the same user as found.
func wantFound(tb testing.TB, u notify.User, err error, want string, found notify.User) {
	tb.Helper()
	wantCode(tb, err, want)
	if err == nil && !sameUser(u, found) {
		tb.Fatalf("got %+v, want %+v", u, found)
	}
}

// outcome is what one call of race returned.
type outcome[T any] struct {
	v   T
	err error
}

// race makes the n calls f(0)..f(n-1) at once, each on its own goroutine,
// and returns what each returned, in the order of i: for the tests of
// what concurrent writers may not do twice.
func race[T any](n int, f func(i int) (T, error)) []outcome[T] {
	out := make([]outcome[T], n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := f(i)
			out[i] = outcome[T]{v, err}
		})
	}
	wg.Wait()
	return out
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
