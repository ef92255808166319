package notify_test

import (
	"context"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// Several committers (BatchConfig.Committers, batcher.go), on the real
// store: SQLite, or Postgres with NOTIFYD_TEST_DATABASE_URL.

// holdTwo holds a batch of alice, then one of bob, in their transactions
// at once, and returns their calls' outcomes.
func holdTwo(t *testing.T, committers int) (*gatedStore, *notify.Service, []<-chan result) {
	t.Helper()
	st, gs, _, svc := newGatedService(t, committersConfig(committers))
	alice := storetest.User(t, st, "alice")
	bob := storetest.User(t, st, "bob")
	ctx := context.Background()
	first := notifyAsync(ctx, svc, alice.ID, "alice's")
	gs.nextCall(t)
	second := notifyAsync(ctx, svc, bob.ID, "bob's")
	if items := gs.nextCall(t); len(items) != 1 || items[0].UserID != bob.ID {
		t.Fatalf("second transaction holds %+v, want bob's notification", items)
	}
	return gs, svc, []<-chan result{first, second}
}

// TestCommittersRunAtOnce holds a batch of alice in its transaction: a
// batch of bob still starts its own (holdTwo), and both are answered once
// released.
func TestCommittersRunAtOnce(t *testing.T) {
	gs, svc, held := holdTwo(t, 2)
	close(gs.release)
	for _, ch := range held {
		if r := receive(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	closeService(t, svc)
}

// TestCommittersCloseDrains holds two batches in their transactions with
// nothing queued and a committer free (so the collector has stopped):
// Close waits for both batches.
func TestCommittersCloseDrains(t *testing.T) {
	gs, svc, held := holdTwo(t, 3)
	closeWhileHeld(t, svc, gs, held...)
}
