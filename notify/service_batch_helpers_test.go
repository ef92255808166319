package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// Helpers of the group-commit tests (service_batch_test.go).

// noLeaks checks, once the test and its cleanups (the store's Close)
// are done, that no goroutine is left: in particular no committer.
func noLeaks(tb testing.TB) {
	tb.Helper()
	tb.Cleanup(func() { goleak.VerifyNone(tb) })
}

// gatedStore is the real store with a gate in front of InsertBatch: each
// call reports its items on calls, then waits for a value on release. A
// test holds a batch in the committer that way and lines other calls up
// behind it.
type gatedStore struct {
	*store.Store
	calls   chan []notify.NewItem
	release chan struct{}
}

func newGatedStore(st *store.Store) *gatedStore {
	return &gatedStore{Store: st, calls: make(chan []notify.NewItem, 100), release: make(chan struct{})}
}

// newGatedService returns a Service with batch limits cfg over a gated
// fresh store, the store itself and the hub, checked for leaks.
func newGatedService(tb testing.TB, cfg notify.BatchConfig) (*store.Store, *gatedStore, *notify.Hub, *notify.Service) {
	tb.Helper()
	noLeaks(tb)
	st := storetest.Open(tb)
	gs := newGatedStore(st)
	hub := notify.NewHub(notifytest.HubConfig())
	return st, gs, hub, notify.NewService(gs, hub, notify.NewLocalBroker(hub), cfg, nil, nil)
}

func (g *gatedStore) InsertBatch(ctx context.Context, items []notify.NewItem, claims []notify.Claim, now time.Time) ([]notify.Inserted, []notify.ClaimOutcome, error) {
	g.calls <- items
	<-g.release
	return g.Store.InsertBatch(ctx, items, claims, now)
}

// nextCall returns the items of the next InsertBatch call.
func (g *gatedStore) nextCall(tb testing.TB) []notify.NewItem {
	tb.Helper()
	select {
	case items := <-g.calls:
		return items
	case <-time.After(10 * time.Second):
		tb.Fatal("no InsertBatch call within 10s")
		return nil
	}
}

// waitQueued waits until rows rows wait for the committer.
func waitQueued(tb testing.TB, svc *notify.Service, rows int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for svc.QueuedRows() != rows {
		if time.Now().After(deadline) {
			tb.Fatalf("%d rows queued after 10s, want %d", svc.QueuedRows(), rows)
		}
		time.Sleep(time.Millisecond)
	}
}

// result is the outcome of one Notify call.
type result struct {
	n   notify.Notification
	err error
}

// notifyAsync calls Notify in a goroutine; the outcome arrives on the
// returned channel.
func notifyAsync(ctx context.Context, svc *notify.Service, userID int64, title string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		n, err := svc.Notify(ctx, userID, notify.NewNotification{Title: title})
		ch <- result{n, err}
	}()
	return ch
}

// receive returns the outcome of a notifyAsync call.
func receive(tb testing.TB, ch <-chan result) result {
	tb.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		tb.Fatal("Notify did not return within 10s")
		return result{}
	}
}

// storedNotifications returns every notification of userID, oldest first.
func storedNotifications(tb testing.TB, st *store.Store, userID int64) []notify.Notification {
	tb.Helper()
	var out []notify.Notification
	var before int64
	for {
		page, more, err := st.ListNotifications(context.Background(), userID, notify.ListQuery{Limit: 100, Before: before})
		if err != nil {
			tb.Fatalf("list notifications of user %d: %v", userID, err)
		}
		out = append(out, page...)
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	slices.Reverse(out)
	return out
}

// received is one notification frame as a socket gets it.
type received struct {
	ID     int64
	Title  string
	Unread int64
}

// drainNotifications returns the notification frames queued for s,
// without blocking.
func drainNotifications(tb testing.TB, s *notify.Subscriber) []received {
	tb.Helper()
	var out []received
	for {
		f, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, decodeNotification(tb, f))
	}
}

// decodeNotification decodes a notification frame.
func decodeNotification(tb testing.TB, f notify.Frame) received {
	tb.Helper()
	var msg struct {
		Type         string              `json:"type"`
		Notification notify.Notification `json:"notification"`
		UnreadCount  int64               `json:"unread_count"`
	}
	if err := json.Unmarshal(f.Data, &msg); err != nil {
		tb.Fatalf("frame %s: %v", f.Data, err)
	}
	if msg.Type != "notification" || f.ID != msg.Notification.ID {
		tb.Fatalf("frame ID %d %s, want a notification frame", f.ID, f.Data)
	}
	return received{ID: f.ID, Title: msg.Notification.Title, Unread: msg.UnreadCount}
}

// committersConfig returns the group-commit limits of config.Default with
// n committers.
func committersConfig(n int) notify.BatchConfig {
	c := notifytest.BatchConfig()
	c.Committers = n
	return c
}

// closeWhileHeld closes svc while batches are held in gs: Close cannot
// return before gs releases them and a call made meanwhile fails with
// EUNAVAILABLE; then the held calls succeed and Close returns nil.
func closeWhileHeld(tb testing.TB, svc *notify.Service, gs *gatedStore, held ...<-chan result) {
	tb.Helper()
	ctx := context.Background()
	closed := make(chan error, 1)
	go func() { closed <- svc.Close(ctx) }()
	expired, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if err := svc.Close(expired); !errors.Is(err, context.DeadlineExceeded) {
		tb.Fatalf("Close with a batch held = %v, want DeadlineExceeded", err)
	}
	if _, err := svc.Notify(ctx, 1, notify.NewNotification{Title: "late"}); notify.ErrorCode(err) != notify.EUNAVAILABLE {
		tb.Fatalf("Notify while closing: %v, want %s", err, notify.EUNAVAILABLE)
	}
	close(gs.release)
	for _, ch := range held {
		if r := receive(tb, ch); r.err != nil {
			tb.Fatalf("call held before Close: %v", r.err)
		}
	}
	if err := <-closed; err != nil {
		tb.Fatalf("Close = %v", err)
	}
}

// overlapStore is the real store counting, per user, the InsertBatch
// calls in flight: two at once for one user would let the later one
// commit, and be pushed, first.
type overlapStore struct {
	notify.NotificationStore
	mu       sync.Mutex
	inflight map[int64]int
	overlaps []string
}

func (o *overlapStore) InsertBatch(ctx context.Context, items []notify.NewItem, claims []notify.Claim, now time.Time) ([]notify.Inserted, []notify.ClaimOutcome, error) {
	users := map[int64]bool{}
	for _, it := range items {
		users[it.UserID] = true
	}
	o.mu.Lock()
	for u := range users {
		if o.inflight[u]++; o.inflight[u] > 1 {
			o.overlaps = append(o.overlaps, fmt.Sprintf("user %d: %d transactions at once", u, o.inflight[u]))
		}
	}
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		for u := range users {
			o.inflight[u]--
		}
		o.mu.Unlock()
	}()
	return o.NotificationStore.InsertBatch(ctx, items, claims, now)
}
