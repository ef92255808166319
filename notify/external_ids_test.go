package notify_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// externalReads is the real store, counting the reads of external ids'
// user ids: the round trip a notification to an external id that the
// Service does not know yet costs before its transaction.
type externalReads struct {
	*store.Store
	reads atomic.Int64
}

func (e *externalReads) ExternalUserIDs(ctx context.Context, ids []string) (map[string]int64, error) {
	e.reads.Add(1)
	return e.Store.ExternalUserIDs(ctx, ids)
}

// TestExternalUsersKnownToPublishes: an external user that Accounts
// created or read (the publisher's user sync, PUT /users/{id}; a token's
// user, first seen or already stored) is known to the Service that shares
// its cache: the first notification to that external id reads no user id
// first. One that Accounts never saw costs one read, and then no more.
func TestExternalUsersKnownToPublishes(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	st := storetest.Open(t)
	reads := &externalReads{Store: st}
	external := &notify.ExternalIDs{}
	acc := newAccountsShared(t, st, external)
	hub := notify.NewHub(notifytest.HubConfig())
	svc := notify.NewService(reads, hub, notify.NewLocalBroker(hub), notifytest.BatchConfig(), nil, external)
	t.Cleanup(func() { _ = svc.Close(context.Background()) })

	notifyTo := func(ext string, wantReads int64) {
		t.Helper()
		n, _, err := svc.NotifyExternal(ctx, ext, notify.NewNotification{Title: "hi " + ext}, nil)
		if err != nil || n.ID == 0 {
			t.Fatalf("notify %s: %+v, %v", ext, n, err)
		}
		if got := reads.reads.Load(); got != wantReads {
			t.Fatalf("after notifying %s: %d reads of user ids, want %d", ext, got, wantReads)
		}
	}
	// Created by Accounts (the user sync), then read by it.
	if _, created, err := acc.EnsureExternalUser(ctx, "synced-1", nil); err != nil || !created {
		t.Fatalf("ensure synced-1: created %v, %v", created, err)
	}
	notifyTo("synced-1", 0)
	if _, _, err := st.EnsureExternalUser(ctx, "synced-2", nil, time.Now()); err != nil { // behind Accounts' back
		t.Fatal(err)
	}
	if _, created, err := acc.EnsureExternalUser(ctx, "synced-2", nil); err != nil || created {
		t.Fatalf("ensure synced-2 again: created %v, %v", created, err)
	}
	notifyTo("synced-2", 0)
	// A token's user: created by its first auth, or read.
	if _, _, err := st.EnsureExternalUser(ctx, "token-old", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"token-new", "token-old"} {
		if u, _, err := acc.AuthenticateToken(ctx, jwtauthtest.Token(t, sub, time.Minute)); err != nil || u.ExternalID != sub {
			t.Fatalf("token of %s: %+v, %v", sub, u, err)
		}
		notifyTo(sub, 0)
	}
	// Never seen by Accounts: one read, then known.
	if _, _, err := st.EnsureExternalUser(ctx, "unseen", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	notifyTo("unseen", 1)
	notifyTo("unseen", 1)
}

// newAccountsShared is newAccounts with a cache of external ids shared
// with a Service.
func newAccountsShared(tb testing.TB, st notify.AccountStore, external *notify.ExternalIDs) *notify.Accounts {
	tb.Helper()
	cfg := notifytest.AccountsConfig()
	cfg.Password = cheapPasswords()
	acc, err := notify.NewAccounts(st, cfg, jwtauthtest.Verifier(tb, jwtauthtest.Config()), external)
	if err != nil {
		tb.Fatal(err)
	}
	return acc
}
