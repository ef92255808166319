package notify_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

const day = 24 * time.Hour

// session stores a session of userID expiring at expires.
func session(tb testing.TB, st *store.Store, userID int64, hash string, expires time.Time) notify.Session {
	tb.Helper()
	s, err := st.CreateSession(context.Background(), notify.Session{
		UserID: userID, SecretHash: []byte(hash), CreatedAt: expires.Add(-day), ExpiresAt: expires,
	})
	if err != nil {
		tb.Fatalf("create session: %v", err)
	}
	return s
}

// sweeperConfig is config.Default's sweeper (interval, batch, pause) with
// only the retention rules a test names: 0 turns a rule off.
func sweeperConfig(readAfter, unreadAfter, keyTTL time.Duration) notify.SweeperConfig {
	c := notifytest.SweeperConfig()
	c.ReadAfter, c.UnreadAfter, c.IdempotencyTTL = readAfter, unreadAfter, keyTTL
	return c
}

func TestSweep(t *testing.T) {
	tests := []struct {
		name        string
		readAfter   time.Duration
		unreadAfter time.Duration
		wantGone    []string
	}{
		{"defaults: read after 90 days", 90 * day, 0, []string{"readOld"}},
		{"unread after 180 days", 0, 180 * day, []string{"unreadOld"}},
		{"both", 90 * day, 180 * day, []string{"readOld", "unreadOld"}},
		{"both off", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			u := storetest.User(t, st, "alice")
			now := time.Now()
			rows := map[string]int64{
				"readOld":      storetest.InsertAt(t, st, u.ID, now.Add(-200*day), now.Add(-100*day)),
				"readRecently": storetest.InsertAt(t, st, u.ID, now.Add(-200*day), now.Add(-80*day)), // created long ago, read lately
				"unreadOld":    storetest.InsertAt(t, st, u.ID, now.Add(-200*day), time.Time{}),
				"unreadRecent": storetest.InsertAt(t, st, u.ID, now.Add(-10*day), time.Time{}),
			}
			expired := session(t, st, u.ID, "expired", now.Add(-time.Hour))
			valid := session(t, st, u.ID, "valid", now.Add(time.Hour))

			reg := prometheus.NewRegistry()
			w := notify.NewSweeper(st, sweeperConfig(tt.readAfter, tt.unreadAfter, 0), nil, metrics.New(reg))
			res, err := w.Sweep(context.Background())
			if err != nil {
				t.Fatalf("Sweep: %v", err)
			}

			var want []int64
			for name, id := range rows {
				if !slices.Contains(tt.wantGone, name) {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			if got := storetest.Remaining(t, st, u.ID); !slices.Equal(got, want) {
				t.Fatalf("left %v, want %v (rows %v)", got, want, rows)
			}
			if _, _, err := st.SessionBySecretHash(context.Background(), expired.SecretHash); notify.ErrorCode(err) != notify.ENOTFOUND {
				t.Errorf("expired session: %v, want it deleted", err)
			}
			if _, _, err := st.SessionBySecretHash(context.Background(), valid.SecretHash); err != nil {
				t.Errorf("valid session: %v, want it kept", err)
			}

			var wantRead, wantUnread int64
			if slices.Contains(tt.wantGone, "readOld") {
				wantRead = 1
			}
			if slices.Contains(tt.wantGone, "unreadOld") {
				wantUnread = 1
			}
			if res != (notify.SweepResult{Read: wantRead, Unread: wantUnread, Sessions: 1}) {
				t.Errorf("Sweep = %+v, want read %d, unread %d, sessions 1", res, wantRead, wantUnread)
			}
			for kind, want := range map[string]int64{
				notify.RetentionRead: wantRead, notify.RetentionUnread: wantUnread, notify.RetentionSession: 1,
			} {
				if got := metricstest.Value(t, reg, "notifyd_retention_deleted_total", "kind", kind); got != float64(want) {
					t.Errorf("retention deleted {kind=%s} = %v, want %d", kind, got, want)
				}
			}
		})
	}
}

// countingStore counts the delete statements the sweeper issues on the
// real store.
type countingStore struct {
	*store.Store
	readCalls atomic.Int64
}

func (c *countingStore) DeleteReadBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	c.readCalls.Add(1)
	return c.Store.DeleteReadBefore(ctx, t, limit)
}

func TestSweepBatches(t *testing.T) {
	st := storetest.Open(t)
	u := storetest.User(t, st, "alice")
	now := time.Now()
	for range 5 {
		storetest.InsertAt(t, st, u.ID, now.Add(-200*day), now.Add(-100*day))
	}
	keep := storetest.InsertAt(t, st, u.ID, now.Add(-200*day), now.Add(-day))

	cs := &countingStore{Store: st}
	cfg := sweeperConfig(90*day, 0, 0)
	cfg.Batch = 2
	w := notify.NewSweeper(cs, cfg, nil, nil)
	res, err := w.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 5 {
		t.Errorf("deleted %d read notifications, want 5", res.Read)
	}
	// 2 + 2 + 1: the short batch shows nothing is left.
	if n := cs.readCalls.Load(); n != 3 {
		t.Errorf("%d delete statements, want 3", n)
	}
	if got := storetest.Remaining(t, st, u.ID); !slices.Equal(got, []int64{keep}) {
		t.Errorf("left %v, want %v", got, []int64{keep})
	}
}

// TestSweeperRun checks that Run sweeps at once, without waiting for the
// first interval, and returns when its context ends.
func TestSweeperRun(t *testing.T) {
	st := storetest.Open(t)
	u := storetest.User(t, st, "alice")
	now := time.Now()
	storetest.InsertAt(t, st, u.ID, now.Add(-200*day), now.Add(-100*day))

	reg := prometheus.NewRegistry()
	w := notify.NewSweeper(st, sweeperConfig(90*day, 0, 0), nil, metrics.New(reg))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for metricstest.Value(t, reg, "notifyd_retention_deleted_total", "kind", notify.RetentionRead) != 1 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("Run did not sweep at start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := storetest.Remaining(t, st, u.ID); len(got) != 0 {
		t.Errorf("left %v, want none", got)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestSweepIdempotencyKeys: keys older than publisher.idempotency_ttl are
// forgotten, newer ones kept; a TTL of 0 keeps them all.
func TestSweepIdempotencyKeys(t *testing.T) {
	for _, ttl := range []time.Duration{24 * time.Hour, 0} {
		t.Run(ttl.String(), func(t *testing.T) {
			st := storetest.Open(t)
			ctx := context.Background()
			now := time.Now()
			for key, at := range map[string]time.Time{"old": now.Add(-25 * time.Hour), "new": now.Add(-time.Hour)} {
				c := notify.Claim{Idempotency: *idem(key, "req"), Count: 1}
				items := []notify.NewItem{{ExternalID: "u", NewNotification: notify.NewNotification{Title: key}}}
				if _, _, err := st.InsertBatch(ctx, items, []notify.Claim{c}, at); err != nil {
					t.Fatal(err)
				}
			}
			reg := prometheus.NewRegistry()
			res, err := notify.NewSweeper(st, sweeperConfig(0, 0, ttl), nil, metrics.New(reg)).Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantGone := ttl > 0
			if _, found := storetest.IdempotencyRecord(t, st, []byte("publisher-one"), "old"); found == wantGone {
				t.Fatalf("old key found %v, want %v", found, !wantGone)
			}
			if _, found := storetest.IdempotencyRecord(t, st, []byte("publisher-one"), "new"); !found {
				t.Fatal("the new key was deleted")
			}
			want := 0.0
			if wantGone {
				want = 1
			}
			if res.Keys != int64(want) || metricstest.Value(t, reg, "notifyd_retention_deleted_total", "kind", notify.RetentionIdempotencyKey) != want {
				t.Fatalf("deleted %d keys, want %v", res.Keys, want)
			}
		})
	}
}
