package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// idem is an idempotency key of the test publisher, whose answer is the
// JSON of the rows created.
func idem(key, request string) *notify.Idempotency {
	return &notify.Idempotency{
		Scope: []byte("publisher-one"), Key: key, RequestHash: []byte(request),
		Answer: func(rows []notify.Inserted) (int, []byte) {
			b, _ := json.Marshal(rows[0].Notification)
			return 201, b
		},
	}
}

// TestIdempotentRetryAfterUnavailable is the retry the key exists for:
// the first call commits but its answer is lost (503); the retry with the
// same key gets the original answer, and the user has one row and one
// frame per socket (the committed row reaches them through the settle
// path, the retry pushes nothing).
func TestIdempotentRetryAfterUnavailable(t *testing.T) {
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprintf("committed %v", commit), func(t *testing.T) {
			st, hub, svc := newLostAnswerService(t)
			ctx := context.Background()
			u, _, err := st.EnsureExternalUser(ctx, "alice", nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			sockets := []*notify.Subscriber{register(t, hub, u.ID, 1), register(t, hub, u.ID, 2)}
			for _, s := range sockets {
				s.GoLive(0)
			}

			st.arm(commit)
			n := notify.NewNotification{Title: "Invoice 42"}
			if _, _, err := svc.NotifyExternal(ctx, "alice", n, idem("k1", "req")); notify.ErrorCode(err) != notify.EUNAVAILABLE {
				t.Fatalf("first call: %v, want %s", err, notify.EUNAVAILABLE)
			}
			got, replayed, err := svc.NotifyExternal(ctx, "alice", n, idem("k1", "req"))
			if err != nil {
				t.Fatal(err)
			}
			stored := storedNotifications(t, st.Store, u.ID)
			if len(stored) != 1 {
				t.Fatalf("%d rows stored, want 1", len(stored))
			}
			if commit {
				// The stored answer of the first call, with its id.
				var first notify.Notification
				if replayed == nil || json.Unmarshal(replayed.Body, &first) != nil || first.ID != stored[0].ID || replayed.Status != 201 {
					t.Fatalf("retry = %+v, %v; want the first answer for id %d", got, replayed, stored[0].ID)
				}
			} else if replayed != nil || got.ID != stored[0].ID {
				t.Fatalf("retry after a failure that stored nothing: %+v, replayed %v", got, replayed)
			}
			for i, s := range sockets {
				checkReceived(t, fmt.Sprintf("socket %d", i), waitNotifications(t, s, 1), stored)
			}
			waitSettled(t, svc)
			for i, s := range sockets {
				if extra := drainNotifications(t, s); len(extra) > 0 {
					t.Fatalf("socket %d got %v more", i, extra)
				}
			}
		})
	}
}

// TestIdempotencyKeyRules: a replay creates nothing; another request with
// the key is refused; keys are per publisher; a key used by several
// concurrent calls creates one row.
func TestIdempotencyKeyRules(t *testing.T) {
	noLeaks(t)
	st := storetest.Open(t)
	hub := notify.NewHub(notify.HubConfig{SendQueue: 100, MaxPerUser: 16})
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notifytest.BatchConfig(), nil, nil)
	defer closeService(t, svc)
	ctx := context.Background()
	n := notify.NewNotification{Title: "Video ready"}

	first, replayed, err := svc.NotifyExternal(ctx, "bob", n, idem("k", "req"))
	if err != nil || replayed != nil {
		t.Fatalf("first: %v, %v", err, replayed)
	}
	_, replayed, err = svc.NotifyExternal(ctx, "bob", n, idem("k", "req"))
	if err != nil || replayed == nil {
		t.Fatalf("retry: %v, %v", err, replayed)
	}
	var again notify.Notification
	if json.Unmarshal(replayed.Body, &again) != nil || again.ID != first.ID {
		t.Fatalf("replayed %s, want id %d", replayed.Body, first.ID)
	}
	if _, _, err := svc.NotifyExternal(ctx, "bob", n, idem("k", "another request")); notify.ErrorCode(err) != notify.EIDEMPOTENCY {
		t.Fatalf("reuse: %v, want %s", err, notify.EIDEMPOTENCY)
	}
	other := idem("k", "req")
	other.Scope = []byte("publisher-two")
	if _, replayed, err := svc.NotifyExternal(ctx, "bob", n, other); err != nil || replayed != nil {
		t.Fatalf("same key of another publisher: %v, replayed %v", err, replayed)
	}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = map[int64]int{}
		errs []error
	)
	for range 8 {
		wg.Go(func() {
			got, replayed, err := svc.NotifyExternal(ctx, "carol", n, idem("concurrent", "req"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if replayed != nil {
				var r notify.Notification
				if err := json.Unmarshal(replayed.Body, &r); err != nil {
					errs = append(errs, err)
				}
				got = r
			}
			ids[got.ID]++
		})
	}
	wg.Wait()
	if len(errs) > 0 || len(ids) != 1 {
		t.Fatalf("concurrent calls: ids %v, errors %v", ids, errs)
	}
	carol, err := st.UserByExternalID(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if rows := storedNotifications(t, st, carol.ID); len(rows) != 1 {
		t.Fatalf("carol has %d rows, want 1", len(rows))
	}
}

// TestIdempotencyKeyTwoInstances has two instances (two Services over one
// database, each with several committers) carry out one key from many
// concurrent calls: one row, and every call gets its id.
func TestIdempotencyKeyTwoInstances(t *testing.T) {
	noLeaks(t)
	st := storetest.Open(t)
	ctx := context.Background()
	carol, _, err := st.EnsureExternalUser(ctx, "carol", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var svcs []*notify.Service
	for range 2 {
		hub := notify.NewHub(notify.HubConfig{SendQueue: 100, MaxPerUser: 16})
		svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), committersConfig(4), nil, nil)
		defer closeService(t, svc)
		svcs = append(svcs, svc)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = map[int64]int{}
		errs []error
	)
	n := notify.NewNotification{Title: "Video ready"}
	for i := range 16 {
		wg.Go(func() {
			got, replayed, err := svcs[i%2].NotifyExternal(ctx, "carol", n, idem("concurrent", "req"))
			if err == nil && replayed != nil {
				err = json.Unmarshal(replayed.Body, &got)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			ids[got.ID]++
		})
	}
	wg.Wait()
	if len(errs) > 0 || len(ids) != 1 {
		t.Fatalf("concurrent calls: ids %v, errors %v", ids, errs)
	}
	if rows := storedNotifications(t, st, carol.ID); len(rows) != 1 {
		t.Fatalf("carol has %d rows, want 1", len(rows))
	}
}
