package notify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// Group commit (service_batch.go), on the real store: SQLite, or Postgres
// with NOTIFYD_TEST_DATABASE_URL.

// TestNotifyConcurrent has many callers notify a few users at once, with
// one committer and with several: each caller gets its own row, no two
// transactions of one user are in flight at once, and each user's socket
// gets exactly the user's rows in the database, in increasing id order,
// each with the unread count just after it (so id order is commit order).
func TestNotifyConcurrent(t *testing.T) {
	for _, n := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d committers", n), func(t *testing.T) { testNotifyConcurrent(t, n) })
	}
}

func testNotifyConcurrent(t *testing.T, committers int) {
	noLeaks(t)
	st := storetest.Open(t)
	ov := &overlapStore{NotificationStore: st, inflight: map[int64]int{}}
	hub := notify.NewHub(notify.HubConfig{SendQueue: 1000, MaxPerUser: 16})
	svc := notify.NewService(ov, hub, notify.NewLocalBroker(hub), committersConfig(committers), nil, nil)
	const users, perUser = 6, 40
	var ids []int64
	subs := map[int64]*notify.Subscriber{}
	for i := range users {
		u := storetest.User(t, st, fmt.Sprintf("user%d", i))
		ids = append(ids, u.ID)
		subs[u.ID] = register(t, hub, u.ID, int64(i+1))
		subs[u.ID].GoLive(0)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]notify.Notification{} // by title
	for i := range users * perUser {
		wg.Go(func() {
			userID, title := ids[i%users], fmt.Sprintf("n%d", i)
			n, err := svc.Notify(context.Background(), userID, notify.NewNotification{Title: title})
			if err != nil {
				t.Errorf("Notify %s: %v", title, err)
				return
			}
			mu.Lock()
			got[title] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ov.overlaps) > 0 {
		t.Fatalf("%d overlaps, first: %s", len(ov.overlaps), ov.overlaps[0])
	}

	seen := map[int64]bool{}
	for title, n := range got {
		if n.Title != title || seen[n.ID] {
			t.Fatalf("caller %s got %+v: not its own row", title, n)
		}
		seen[n.ID] = true
	}
	for _, userID := range ids {
		stored := storedNotifications(t, st, userID)
		frames := drainNotifications(t, subs[userID])
		if len(stored) != perUser || len(frames) != perUser {
			t.Fatalf("user %d: %d rows stored, %d frames, want %d each", userID, len(stored), len(frames), perUser)
		}
		for k, n := range stored {
			want := received{ID: n.ID, Title: n.Title, Unread: int64(k + 1)}
			if frames[k] != want {
				t.Fatalf("user %d frame %d = %+v, want %+v (the stored row, unread count after it)", userID, k, frames[k], want)
			}
			if got[n.Title].ID != n.ID || got[n.Title].UserID != userID {
				t.Fatalf("row %d (%s) of user %d was answered as %+v", n.ID, n.Title, userID, got[n.Title])
			}
		}
	}
}

// TestNotifyShareTransaction lines calls up behind a batch held in the
// committer: they are committed together, in one InsertBatch, and an
// unknown user fails only its own caller.
func TestNotifyShareTransaction(t *testing.T) {
	st, gs, _, svc := newGatedService(t, notifytest.BatchConfig())
	alice := storetest.User(t, st, "alice")
	bob := storetest.User(t, st, "bob")
	ctx := context.Background()

	first := notifyAsync(ctx, svc, alice.ID, "first")
	if items := gs.nextCall(t); len(items) != 1 {
		t.Fatalf("first batch has %d items, want 1", len(items))
	}
	calls := []struct {
		userID int64
		title  string
		code   string
	}{
		{alice.ID, "a1", ""},
		{bob.ID + 1000, "nobody", notify.ENOTFOUND},
		{bob.ID, "b1", ""},
		{alice.ID, "a2", ""},
	}
	var pending []<-chan result
	for i, c := range calls {
		pending = append(pending, notifyAsync(ctx, svc, c.userID, c.title))
		waitQueued(t, svc, i+1) // in this order
	}
	close(gs.release)
	if r := receive(t, first); r.err != nil {
		t.Fatalf("first: %v", r.err)
	}
	if items := gs.nextCall(t); len(items) != len(calls) {
		t.Fatalf("second batch has %d items, want %d: the queued calls share it", len(items), len(calls))
	}
	var last int64
	for i, c := range calls {
		r := receive(t, pending[i])
		if code := notify.ErrorCode(r.err); code != c.code {
			t.Fatalf("%s: error %v, want code %q", c.title, r.err, c.code)
		}
		if c.code == "" {
			if r.n.Title != c.title || r.n.UserID != c.userID || r.n.ID <= last {
				t.Fatalf("%s: got %+v, want its own row, ids in call order", c.title, r.n)
			}
			last = r.n.ID
		}
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(storedNotifications(t, st, alice.ID)) + len(storedNotifications(t, st, bob.ID)); n != 4 {
		t.Fatalf("%d rows stored, want 4", n)
	}
}

// TestNotifyWithoutBatchLimits: a Service has no group-commit limits of
// its own (they are config.Default's, given to NewService): with the zero
// BatchConfig, each call is committed in a transaction of its own, and
// calls queued behind a held batch are not merged.
func TestNotifyWithoutBatchLimits(t *testing.T) {
	st, gs, _, svc := newGatedService(t, notify.BatchConfig{})
	alice := storetest.User(t, st, "alice")
	ctx := context.Background()

	first := notifyAsync(ctx, svc, alice.ID, "first")
	if items := gs.nextCall(t); len(items) != 1 {
		t.Fatalf("first batch has %d items, want 1", len(items))
	}
	var pending []<-chan result
	for i := range 3 {
		pending = append(pending, notifyAsync(ctx, svc, alice.ID, fmt.Sprintf("queued %d", i)))
		waitQueued(t, svc, i+1)
	}
	close(gs.release)
	for i := range pending {
		if items := gs.nextCall(t); len(items) != 1 {
			t.Fatalf("batch %d has %d items, want 1: no group commit without limits", i+2, len(items))
		}
	}
	for _, ch := range append(pending, first) {
		if r := receive(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(storedNotifications(t, st, alice.ID)); n != 4 {
		t.Fatalf("%d rows stored, want 4", n)
	}
}

// TestNotifyCancelled: a caller that gives up while queued gets its
// context's error and nothing is stored; one whose batch is already
// committing gets the committed row.
func TestNotifyCancelled(t *testing.T) {
	st, gs, _, svc := newGatedService(t, notifytest.BatchConfig())
	alice := storetest.User(t, st, "alice")

	committingCtx, cancelCommitting := context.WithCancel(context.Background())
	committing := notifyAsync(committingCtx, svc, alice.ID, "committing")
	gs.nextCall(t)
	queuedCtx, cancelQueued := context.WithCancel(context.Background())
	queued := notifyAsync(queuedCtx, svc, alice.ID, "queued")
	waitQueued(t, svc, 1)
	kept := notifyAsync(context.Background(), svc, alice.ID, "kept")
	waitQueued(t, svc, 2)

	cancelQueued()
	if r := receive(t, queued); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("queued caller after cancel: %+v, want context.Canceled", r)
	}
	cancelCommitting()
	close(gs.release)
	if r := receive(t, committing); r.err != nil || r.n.Title != "committing" {
		t.Fatalf("caller cancelled while its batch commits: %+v, want its row", r)
	}
	if r := receive(t, kept); r.err != nil || r.n.Title != "kept" {
		t.Fatalf("kept: %+v", r)
	}
	if items := gs.nextCall(t); len(items) != 1 || items[0].Title != "kept" {
		t.Fatalf("second batch = %+v, want only kept", items)
	}
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, n := range storedNotifications(t, st, alice.ID) {
		titles = append(titles, n.Title)
	}
	if !slices.Equal(titles, []string{"committing", "kept"}) {
		t.Fatalf("stored %q, want [committing kept]", titles)
	}
}

// TestNotifyDatabaseFailure: when the database fails, every caller of the
// batch gets EUNAVAILABLE and nothing is pushed.
func TestNotifyDatabaseFailure(t *testing.T) {
	st, gs, hub, svc := newGatedService(t, notifytest.BatchConfig())
	alice := storetest.User(t, st, "alice")
	bob := storetest.User(t, st, "bob")
	sub := register(t, hub, alice.ID, 1)
	sub.GoLive(0)
	ctx := context.Background()

	held := notifyAsync(ctx, svc, alice.ID, "held")
	gs.nextCall(t)
	var pending []<-chan result
	for i, userID := range []int64{alice.ID, bob.ID, alice.ID} {
		pending = append(pending, notifyAsync(ctx, svc, userID, fmt.Sprintf("q%d", i)))
		waitQueued(t, svc, i+1)
	}
	many := make(chan error, 1)
	go func() {
		_, err := svc.NotifyMany(ctx, []int64{alice.ID, bob.ID}, notify.NewNotification{Title: "many"})
		many <- err
	}()
	waitQueued(t, svc, 5)
	if err := st.Close(); err != nil { // the database goes away
		t.Fatal(err)
	}
	close(gs.release)

	for _, ch := range append(pending, held) {
		if r := receive(t, ch); notify.ErrorCode(r.err) != notify.EUNAVAILABLE {
			t.Fatalf("Notify with the database gone: %+v, want %s", r, notify.EUNAVAILABLE)
		}
	}
	if err := <-many; notify.ErrorCode(err) != notify.EUNAVAILABLE {
		t.Fatalf("NotifyMany with the database gone: %v, want %s", err, notify.EUNAVAILABLE)
	}
	// Frames are pushed before callers are answered: none came.
	if got := takeAll(sub); len(got) != 0 {
		t.Fatalf("frames pushed for failed batches: %q", got)
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestServiceCloseDrains: Close waits for the queued calls to be
// committed and answered; calls after Close fail with EUNAVAILABLE.
func TestServiceCloseDrains(t *testing.T) {
	st, gs, _, svc := newGatedService(t, notifytest.BatchConfig())
	alice := storetest.User(t, st, "alice")
	ctx := context.Background()

	held := notifyAsync(ctx, svc, alice.ID, "held")
	gs.nextCall(t)
	queued := notifyAsync(ctx, svc, alice.ID, "queued")
	waitQueued(t, svc, 1)
	closeWhileHeld(t, svc, gs, held, queued)
	if n := len(storedNotifications(t, st, alice.ID)); n != 2 {
		t.Fatalf("%d rows stored, want 2", n)
	}
}
