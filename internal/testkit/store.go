package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// StoreUser creates the user name with one session directly in st, for
// suites below the HTTP API (the brokers'), and returns their ids.
func StoreUser(tb testing.TB, st *store.Store, name string) (userID, sessionID int64) {
	tb.Helper()
	u := storetest.User(tb, st, name)
	return u.ID, StoreSession(tb, st, u.ID, name)
}

// StoreSession creates a session of userID valid for an hour directly in
// st and returns its id; label makes its secret hash unique.
func StoreSession(tb testing.TB, st *store.Store, userID int64, label string) int64 {
	tb.Helper()
	now := time.Now()
	s, err := st.CreateSession(context.Background(), notify.Session{
		UserID: userID, SecretHash: []byte("hash of " + label), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		tb.Fatalf("session of user %d: %v", userID, err)
	}
	return s.ID
}
