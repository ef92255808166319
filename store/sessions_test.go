package store_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
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

// TestConcurrentConnectReads: many sockets authenticate and read their
// position at once, so their reads share statements (coalesce.go). Each
// caller still gets its own session, user and position; an unknown secret
// and a deleted session are not found, whoever shares the statement.
func TestConcurrentConnectReads(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	const users = 40
	type account struct {
		user    notify.User
		secret  string
		session notify.Session
		pos     notify.Position
	}
	accounts := make([]account, users)
	for i := range accounts {
		a := &accounts[i]
		a.user = storetest.User(t, st, fmt.Sprintf("reader%d", i))
		a.secret = fmt.Sprintf("secret-of-reader-%d", i)
		a.session = newSession(t, st, a.user.ID, a.secret, t0.Add(time.Hour))
		// A different history per user: i notifications.
		if got := insertN(t, st, a.user.ID, i); len(got) > 0 {
			a.pos = notify.Position{Newest: got[len(got)-1], Seq: int64(i), Unread: int64(i)}
		}
	}
	revoked := accounts[users-1]
	if err := st.DeleteSession(ctx, revoked.session.ID); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 4*users)
	for round := range 4 {
		for i, a := range accounts {
			wg.Go(func() { errs <- checkConnectReads(ctx, st, a.user, a.secret, a.session, a.pos, i == users-1) })
			if round == 0 && i%10 == 0 {
				wg.Go(func() {
					_, _, err := st.SessionBySecretHash(ctx, notify.HashSecret("no such secret"))
					if notify.ErrorCode(err) != notify.ENOTFOUND {
						errs <- fmt.Errorf("unknown secret: %v, want %s", err, notify.ENOTFOUND)
					}
				})
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// connectReader is the part of store.Store a connect reads.
type connectReader interface {
	SessionBySecretHash(ctx context.Context, hash []byte) (notify.Session, notify.User, error)
	Position(ctx context.Context, userID int64) (notify.Position, error)
}

// checkConnectReads reads what a connect of u reads and compares it with
// what was stored; a revoked session must not be found.
func checkConnectReads(ctx context.Context, st connectReader, u notify.User, secret string, sess notify.Session, want notify.Position, revoked bool) error {
	gotSess, gotUser, err := st.SessionBySecretHash(ctx, notify.HashSecret(secret))
	switch {
	case revoked && notify.ErrorCode(err) != notify.ENOTFOUND:
		return fmt.Errorf("%s: deleted session: %v, want %s", u.Username, err, notify.ENOTFOUND)
	case revoked:
	case err != nil:
		return fmt.Errorf("%s: session: %v", u.Username, err)
	case gotSess.ID != sess.ID || gotSess.UserID != u.ID || !sameUser(gotUser, u):
		return fmt.Errorf("%s: session %d of user %+v, want %d of %+v", u.Username, gotSess.ID, gotUser, sess.ID, u)
	}
	pos, err := st.Position(ctx, u.ID)
	if err != nil || pos != want {
		return fmt.Errorf("%s: position %+v, %v; want %+v", u.Username, pos, err, want)
	}
	return nil
}

// TestMissingSessions: the deleted session and the unknown id come back,
// ascending and once each; the live session does not.
func TestMissingSessions(t *testing.T) {
	t.Parallel()
	st, a, b := aliceAndBob(t)
	var ids []int64
	for _, u := range []notify.User{a, b} {
		ids = append(ids, newSession(t, st, u.ID, "secret-of-"+u.Username, t0.Add(time.Hour)).ID)
	}
	live, gone, unknown := ids[0], ids[1], ids[1]+1000
	ctx := context.Background()
	if err := st.DeleteSession(ctx, gone); err != nil {
		t.Fatal(err)
	}
	got, err := st.MissingSessions(ctx, []int64{unknown, live, gone, gone})
	if want := []int64{gone, unknown}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("MissingSessions = %v, %v; want %v", got, err, want)
	}
	if got, err := st.MissingSessions(ctx, []int64{live}); err != nil || len(got) != 0 {
		t.Fatalf("MissingSessions(live) = %v, %v; want none", got, err)
	}
}
