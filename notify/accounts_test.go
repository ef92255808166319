package notify_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// cheapPasswords keeps argon2id fast: the cost changes no behaviour here.
func cheapPasswords() notify.PasswordParams {
	return notify.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}
}

// lookupCounter is the real store, counting the username lookups.
type lookupCounter struct {
	*store.Store
	lookups atomic.Int64
}

func (l *lookupCounter) UserByName(ctx context.Context, name string) (notify.User, error) {
	l.lookups.Add(1)
	return l.Store.UserByName(ctx, name)
}

func newAccounts(tb testing.TB, st notify.AccountStore, cfg notify.AccountsConfig) *notify.Accounts {
	tb.Helper()
	cfg.Password = cheapPasswords()
	acc, err := notify.NewAccounts(st, cfg, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return acc
}

// TestLoginOverlongPasswordSameForEveryone: an over-long password used to
// be refused before hashing only when the user existed (1 ms against
// 30-45 ms: a timing oracle for usernames). Now it is refused before the
// lookup, with the same error, for known and unknown names alike.
func TestLoginOverlongPasswordSameForEveryone(t *testing.T) {
	st := &lookupCounter{Store: storetest.Open(t)}
	acc := newAccounts(t, st, notifytest.AccountsConfig())
	ctx := context.Background()
	if _, err := acc.Signup(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 4*notify.MaxPasswordLen+1)
	var msgs []string
	for _, name := range []string{"alice", "nobody"} {
		t.Run(name, func(t *testing.T) {
			before := st.lookups.Load()
			_, _, _, err := acc.Login(ctx, name, long)
			if code := notify.ErrorCode(err); code != notify.EUNAUTHORIZED {
				t.Fatalf("code = %q, want %q", code, notify.EUNAUTHORIZED)
			}
			if n := st.lookups.Load() - before; n != 0 {
				t.Fatalf("%d username lookups, want none: the answer depends on the user existing", n)
			}
			msgs = append(msgs, notify.ErrorMessage(err))
		})
	}
	if len(msgs) == 2 && msgs[0] != msgs[1] {
		t.Fatalf("messages differ: %q vs %q", msgs[0], msgs[1])
	}
}

// TestHashGate: with every hashing slot taken and the queue full, logins
// and sign-ups are refused at once with EBUSY instead of hashing (each
// argon2id hash holds 19 MiB); once a slot frees, they work again.
func TestHashGate(t *testing.T) {
	st := storetest.Open(t)
	cfg := notifytest.AccountsConfig()
	cfg.HashConcurrency, cfg.HashQueue = 1, 1
	acc := newAccounts(t, st, cfg)
	ctx := context.Background()
	if _, err := acc.Signup(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{})
	held := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // takes the one slot
		defer wg.Done()
		_ = acc.HoldHash(ctx, func() { close(held); <-release })
	}()
	<-held
	go func() { // takes the one place in the queue
		defer wg.Done()
		if _, _, _, err := acc.Login(ctx, "alice", "correct horse battery"); err != nil {
			t.Errorf("queued login: %v", err)
		}
	}()
	for acc.HashWaiting() != 1 {
		time.Sleep(time.Millisecond)
	}

	calls := map[string]func() error{
		"login known":   func() error { _, _, _, err := acc.Login(ctx, "alice", "correct horse battery"); return err },
		"login unknown": func() error { _, _, _, err := acc.Login(ctx, "nobody", "whatever pass"); return err },
		"signup":        func() error { _, err := acc.Signup(ctx, "bob", "correct horse battery"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if code := notify.ErrorCode(call()); code != notify.EBUSY {
				t.Fatalf("code = %q, want %q", code, notify.EBUSY)
			}
		})
	}

	close(release)
	wg.Wait()
	if _, _, _, err := acc.Login(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatalf("login after the flood: %v", err)
	}
	if _, err := acc.Signup(ctx, "bob", "correct horse battery"); err != nil {
		t.Fatalf("bob was created while busy, or sign-up fails: %v", err)
	}
}
