package wsserver

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// testAccounts returns Accounts over as, configured as the stack's.
func testAccounts(tb testing.TB, as notify.AccountStore) *notify.Accounts {
	tb.Helper()
	cfg := notifytest.AccountsConfig()
	cfg.Password = testkit.CheapPasswords()
	a, err := notify.NewAccounts(as, cfg, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// steps lets a test act at two moments of a connect: right after the
// combined read of the session and the position (before Register), and
// right after Register (in Watch, before the hello checks that read).
// It counts the positions read again after Register.
type steps struct {
	afterRead, afterRegister func()
	rereads                  atomic.Int64
}

func (p *steps) wrap(s *testkit.Stack) (Watcher, notify.AccountStore, Store) {
	return stepWatcher{s.Service, p}, stepAccounts{s.Store, p}, stepStore{s.Store, p}
}

type stepAccounts struct {
	notify.AccountStore
	p *steps
}

func (a stepAccounts) SessionAndPosition(ctx context.Context, hash []byte) (notify.Session, notify.User, notify.Position, error) {
	sess, u, pos, err := a.AccountStore.SessionAndPosition(ctx, hash)
	if f := a.p.afterRead; f != nil {
		f()
	}
	return sess, u, pos, err
}

func (a stepAccounts) SessionBySecretHash(ctx context.Context, hash []byte) (notify.Session, notify.User, error) {
	sess, u, err := a.AccountStore.SessionBySecretHash(ctx, hash)
	if f := a.p.afterRead; f != nil {
		f()
	}
	return sess, u, err
}

type stepWatcher struct {
	*notify.Service
	p *steps
}

func (w stepWatcher) Watch(ctx context.Context, userID int64) (func(), error) {
	release, err := w.Service.Watch(ctx, userID)
	if f := w.p.afterRegister; f != nil {
		f()
	}
	return release, err
}

type stepStore struct {
	Store
	p *steps
}

func (s stepStore) Position(ctx context.Context, userID int64) (notify.Position, error) {
	s.p.rereads.Add(1)
	return s.Store.Position(ctx, userID)
}

// TestEarlyPositionRace: a socket without after_id reads its position
// with its session, before Register. A notification published between
// that read and Register never reaches the socket (it is not registered
// yet): the hub's marks show it, and the hello reads the position again,
// after Register, so its count includes it. One published after Register
// is held and dropped by the cursor when the position read again has it:
// no loss, no duplicate. Without any publish, or with another user's, the
// early read stands: one round trip.
func TestEarlyPositionRace(t *testing.T) {
	tests := []struct {
		name        string
		read, reg   bool  // alice is notified after the read, after Register
		bob         bool  // bob is notified after the read
		wantUnread  int64 // in alice's hello
		wantRereads int64
	}{
		{"nothing published", false, false, false, 0, 0},
		{"another user notified in between", false, false, true, 0, 0},
		{"notified between the read and Register", true, false, false, 1, 1},
		{"notified between Register and the check", false, true, false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &steps{}
			e := newEnv(t, func(ec *envConfig) { ec.wrap = p.wrap })
			alice, _, secret := e.Session(t, "alice")
			bob := storetest.User(t, e.Store, "bob")
			once := func(cond bool, f func()) func() {
				var done atomic.Bool
				return func() {
					if cond && !done.Swap(true) {
						f()
					}
				}
			}
			p.afterRead = once(tt.read || tt.bob, func() {
				if tt.bob {
					e.Notify(t, bob.ID, "to bob")
				} else {
					e.Notify(t, alice.ID, "between")
				}
			})
			p.afterRegister = once(tt.reg, func() { e.Notify(t, alice.ID, "between") })

			c := e.open(t, nil)
			c.Send(t, secret)
			hello := c.Next(t)
			if hello.Type != "hello" || hello.UnreadCount == nil || *hello.UnreadCount != tt.wantUnread {
				t.Fatalf("hello = %s, want unread_count %d", hello.Raw, tt.wantUnread)
			}
			if got := p.rereads.Load(); got != tt.wantRereads {
				t.Errorf("positions read after Register: %d, want %d", got, tt.wantRereads)
			}
			// The next frame is the next notification: "between" is in
			// the hello's count, never sent twice.
			next := e.Notify(t, alice.ID, "after")
			f := c.Next(t)
			if f.Type != "notification" || f.Notification == nil || f.Notification.ID != next.ID ||
				f.UnreadCount == nil || *f.UnreadCount != tt.wantUnread+1 {
				t.Fatalf("frame after hello = %s, want notification %d with unread_count %d", f.Raw, next.ID, tt.wantUnread+1)
			}
		})
	}
}

// TestEarlyReadRefusals: an unknown, deleted or expired session closes
// the socket with the same code and reason whether its position is read
// with it (no after_id) or after Register (after_id).
func TestEarlyReadRefusals(t *testing.T) {
	e, u, _ := newEnvAs(t, "alice")
	ctx := context.Background()
	now := time.Now()
	expired := "expired-secret-expired-secret-expired-secret"
	if _, err := e.Store.CreateSession(ctx, notify.Session{UserID: u.ID, SecretHash: notify.HashSecret(expired),
		CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, sess, revoked := e.Session(t, "bob")
	if err := e.Store.DeleteSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, secret, reason string
	}{
		{"unknown", "unknown-secret-unknown-secret-unknown-secr", "missing or invalid session"},
		{"revoked", revoked, "missing or invalid session"},
		{"expired", expired, "session expired"},
	}
	for _, tt := range tests {
		for _, after := range []int64{-1, 0} {
			t.Run(fmt.Sprintf("%s after_id %d", tt.name, after), func(t *testing.T) {
				c := e.open(t, nil)
				c.Send(t, testkit.SecretAuth(tt.secret, after))
				c.ExpectCloseReason(t, CloseUnauthorized, tt.reason)
			})
		}
	}
}

// TestLogoutDuringConnect: a logout whose session is deleted, and whose
// sockets are closed, after a connecting socket read that session and
// before the socket registered finds no socket to close. The socket must
// still be closed with 4401, on both read paths (with after_id the
// session is read alone), not left open on a revoked session until it
// expires.
func TestLogoutDuringConnect(t *testing.T) {
	for _, after := range []int64{-1, 0} {
		t.Run(fmt.Sprintf("after_id %d", after), func(t *testing.T) {
			p := &steps{}
			e := newEnv(t, func(ec *envConfig) { ec.wrap = p.wrap })
			_, sess, secret := e.Session(t, "alice")
			var done atomic.Bool
			p.afterRead = func() {
				if done.Swap(true) {
					return
				}
				if err := e.Accounts.Logout(context.Background(), sess); err != nil {
					t.Error(err)
				}
				if n := e.Service.CloseSession(context.Background(), sess.ID); n != 0 {
					t.Errorf("logout closed %d sockets, want 0: the socket is not registered yet", n)
				}
			}
			c := e.open(t, nil)
			c.Send(t, testkit.SecretAuth(secret, after))
			c.ExpectCloseReason(t, CloseUnauthorized, "session revoked")
		})
	}
}
