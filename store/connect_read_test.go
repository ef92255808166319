package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// TestSessionAndPosition: the combined read of a socket without after_id
// returns what the session read and the position read return apart, for
// one caller and for concurrent ones (one batch: padded, repeated keys),
// and ENOTFOUND for an unknown or deleted session; an expired session is
// returned (Accounts decides).
func TestSessionAndPosition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, alice, bob := aliceAndBob(t)
	insertN(t, st, alice.ID, 3)
	newSession(t, st, alice.ID, "alice", t0.Add(time.Hour))
	newSession(t, st, bob.ID, "bob-expired", t0.Add(-time.Hour))
	gone := newSession(t, st, bob.ID, "bob-gone", t0.Add(time.Hour))
	if err := st.DeleteSession(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	for _, secret := range []string{"alice", "bob-expired"} {
		wantSess, wantUser, err := st.SessionBySecretHash(ctx, notify.HashSecret(secret))
		if err != nil {
			t.Fatal(err)
		}
		wantPos, err := st.Position(ctx, wantUser.ID)
		if err != nil {
			t.Fatal(err)
		}
		sess, u, pos, err := st.SessionAndPosition(ctx, notify.HashSecret(secret))
		if err != nil {
			t.Fatalf("%s: %v", secret, err)
		}
		if sess.ID != wantSess.ID || !sess.ExpiresAt.Equal(wantSess.ExpiresAt) || !sameUser(u, wantUser) || pos != wantPos {
			t.Errorf("%s: got %+v %+v %+v, want %+v %+v %+v", secret, sess, u, pos, wantSess, wantUser, wantPos)
		}
	}
	if pos := position(t, st, alice.ID); pos.Newest == 0 || pos.Unread != 3 || pos.Seq == 0 {
		t.Errorf("alice's position %+v, want her 3 unread notifications", pos)
	}
	for _, secret := range []string{"bob-gone", "nobody"} {
		_, _, _, err := st.SessionAndPosition(ctx, notify.HashSecret(secret))
		wantCode(t, err, notify.ENOTFOUND)
	}

	// Many at once: batches of several keys, padded by repeating one.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		secret := []string{"alice", "bob-expired", "nobody"}[i%3]
		wg.Go(func() {
			_, u, pos, err := st.SessionAndPosition(ctx, notify.HashSecret(secret))
			switch {
			case secret == "nobody" && notify.ErrorCode(err) != notify.ENOTFOUND:
				errs <- fmt.Errorf("%s: %v, want ENOTFOUND", secret, err)
			case secret == "alice" && (err != nil || u.ID != alice.ID || pos.Unread != 3):
				errs <- fmt.Errorf("%s: %+v %+v %v", secret, u, pos, err)
			case secret == "bob-expired" && (err != nil || u.ID != bob.ID || pos.Newest != 0):
				errs <- fmt.Errorf("%s: %+v %+v %v", secret, u, pos, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func position(tb testing.TB, st interface {
	Position(context.Context, int64) (notify.Position, error)
}, userID int64) notify.Position {
	tb.Helper()
	p, err := st.Position(context.Background(), userID)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
