package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

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
