package store_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// newSession stores a session of userID for secret, expiring at expires.
func newSession(tb testing.TB, st *store.Store, userID int64, secret string, expires time.Time) notify.Session {
	tb.Helper()
	s, err := st.CreateSession(context.Background(), notify.Session{
		UserID:     userID,
		SecretHash: notify.HashSecret(secret),
		CreatedAt:  t0,
		ExpiresAt:  expires,
	})
	if err != nil {
		tb.Fatalf("create session: %v", err)
	}
	return s
}

func TestCreateSession(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	u := storetest.User(t, st, "alice")
	tests := []struct {
		name   string
		userID int64
		secret string
		want   string
	}{
		{"ok", u.ID, "secret-1", ""},
		{"second session of the user", u.ID, "secret-2", ""},
		{"same secret again", u.ID, "secret-1", notify.ECONFLICT},
		{"unknown user", u.ID + 1000, "secret-3", notify.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := notify.Session{
				UserID:     tt.userID,
				SecretHash: notify.HashSecret(tt.secret),
				CreatedAt:  t0,
				ExpiresAt:  t0.Add(time.Hour),
			}
			s, err := st.CreateSession(context.Background(), in)
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			if s.ID <= 0 || s.UserID != tt.userID || !bytes.Equal(s.SecretHash, in.SecretHash) ||
				!s.CreatedAt.Equal(t0.Truncate(time.Microsecond)) || !s.ExpiresAt.Equal(in.ExpiresAt.Truncate(time.Microsecond)) {
				t.Fatalf("created %+v from %+v", s, in)
			}
		})
	}
}

func TestSessionBySecretHash(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	live := newSession(t, st, alice.ID, "alice-live", t0.Add(time.Hour))
	// An expired session is still returned: Accounts decides about expiry.
	expired := newSession(t, st, alice.ID, "alice-expired", t0.Add(-time.Hour))
	bobs := newSession(t, st, bob.ID, "bob-live", t0.Add(time.Hour))

	tests := []struct {
		name     string
		hash     []byte
		wantSess notify.Session
		wantUser notify.User
		want     string
	}{
		{"live", notify.HashSecret("alice-live"), live, alice, ""},
		{"expired", notify.HashSecret("alice-expired"), expired, alice, ""},
		{"other user", notify.HashSecret("bob-live"), bobs, bob, ""},
		{"unknown secret", notify.HashSecret("nope"), notify.Session{}, notify.User{}, notify.ENOTFOUND},
		{"the secret itself is not a key", []byte("alice-live"), notify.Session{}, notify.User{}, notify.ENOTFOUND},
		{"empty hash", nil, notify.Session{}, notify.User{}, notify.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, u, err := st.SessionBySecretHash(ctx, tt.hash)
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			if s.ID != tt.wantSess.ID || s.UserID != tt.wantUser.ID || !bytes.Equal(s.SecretHash, tt.hash) ||
				!s.CreatedAt.Equal(tt.wantSess.CreatedAt) || !s.ExpiresAt.Equal(tt.wantSess.ExpiresAt) ||
				s.ExpiresAt.Location() != time.UTC {
				t.Fatalf("session = %+v, want %+v", s, tt.wantSess)
			}
			if !sameUser(u, tt.wantUser) {
				t.Fatalf("user = %+v, want %+v", u, tt.wantUser)
			}
		})
	}
}

func TestDeleteSession(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	u := storetest.User(t, st, "alice")
	s1 := newSession(t, st, u.ID, "one", t0.Add(time.Hour))
	newSession(t, st, u.ID, "two", t0.Add(time.Hour))

	if err := st.DeleteSession(ctx, s1.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, _, err := st.SessionBySecretHash(ctx, notify.HashSecret("one"))
	wantCode(t, err, notify.ENOTFOUND)
	if _, _, err := st.SessionBySecretHash(ctx, notify.HashSecret("two")); err != nil {
		t.Fatalf("the other session: %v", err)
	}
	// Deleting again, or a session that never existed, is no error.
	for _, id := range []int64{s1.ID, s1.ID + 1000, 0} {
		if err := st.DeleteSession(ctx, id); err != nil {
			t.Fatalf("delete %d: %v", id, err)
		}
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	u := storetest.User(t, st, "alice")
	newSession(t, st, u.ID, "old", t0.Add(-2*time.Hour))
	newSession(t, st, u.ID, "just-expired", t0)
	newSession(t, st, u.ID, "live", t0.Add(time.Hour))
	// A non-UTC clock must compare the same way (SQLite compares text).
	now := t0.In(time.FixedZone("UTC+5", 5*3600))

	n, err := st.DeleteExpiredSessions(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2", n, err)
	}
	tests := []struct {
		secret string
		want   string
	}{
		{"old", notify.ENOTFOUND},
		{"just-expired", notify.ENOTFOUND},
		{"live", ""},
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			_, _, err := st.SessionBySecretHash(ctx, notify.HashSecret(tt.secret))
			wantCode(t, err, tt.want)
		})
	}
	if n, err := st.DeleteExpiredSessions(ctx, now); err != nil || n != 0 {
		t.Fatalf("second sweep deleted %d, %v; want 0", n, err)
	}
}

// TestTrimAndDeleteUserSessions: trimming keeps the newest sessions of one
// user and returns the others' ids; deleting a user's sessions ends them
// all; another user's sessions are never touched.
func TestTrimAndDeleteUserSessions(t *testing.T) {
	t.Parallel()
	st, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	var a []notify.Session
	for _, secret := range []string{"a1", "a2", "a3", "a4"} {
		a = append(a, newSession(t, st, alice.ID, secret, t0.Add(time.Hour)))
	}
	newSession(t, st, bob.ID, "b1", t0.Add(time.Hour))
	alive := func(secret string) bool {
		_, _, err := st.SessionBySecretHash(ctx, notify.HashSecret(secret))
		return err == nil
	}

	ended, err := st.TrimSessions(ctx, alice.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ended, []int64{a[1].ID, a[0].ID}) {
		t.Fatalf("trim ended %v, want the two oldest [%d %d]", ended, a[1].ID, a[0].ID)
	}
	if alive("a1") || alive("a2") || !alive("a3") || !alive("a4") || !alive("b1") {
		t.Fatal("trim kept the wrong sessions")
	}
	if ended, err := st.TrimSessions(ctx, alice.ID, 2); err != nil || len(ended) != 0 {
		t.Fatalf("trim at the cap: %v %v, want nothing ended", ended, err)
	}

	ended, err = st.DeleteUserSessions(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ended)
	if !slices.Equal(ended, []int64{a[2].ID, a[3].ID}) {
		t.Fatalf("delete ended %v, want [%d %d]", ended, a[2].ID, a[3].ID)
	}
	if alive("a3") || alive("a4") || !alive("b1") {
		t.Fatal("delete user sessions: wrong sessions left")
	}
	if ended, err := st.DeleteUserSessions(ctx, alice.ID); err != nil || len(ended) != 0 {
		t.Fatalf("again: %v %v, want nothing", ended, err)
	}
}
