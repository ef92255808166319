package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestNoObserver: a hub given no Observer still closes a full socket.
func TestNoObserver(t *testing.T) {
	h := notify.NewHub(notify.HubConfig{SendQueue: 1, MaxPerUser: 16})
	s := register(t, h, 1, 1)
	s.GoLive(0)
	h.Publish(1, other("a"))
	h.Publish(1, other("b"))
	if why, _ := s.CloseReason(); why != notify.CloseQueueFull {
		t.Fatalf("CloseReason = %v, want %v", why, notify.CloseQueueFull)
	}
}

func TestQueueFullReasons(t *testing.T) {
	tests := []struct {
		name   string
		live   bool
		reason string
	}{
		{"live queue full", true, notify.ReasonQueueFull},
		{"too much during replay", false, notify.ReasonReplayOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			h := notify.NewHub(notify.HubConfig{SendQueue: 2, Observer: metrics.New(reg), MaxPerUser: 16})
			s := register(t, h, 1, 1)
			if tt.live {
				s.GoLive(0)
			}
			for id := int64(1); id <= 5; id++ { // 2 fit; the 3rd closes; the rest find it closed
				h.Publish(1, notification(id))
			}
			if why, _ := s.CloseReason(); why != notify.CloseQueueFull {
				t.Fatalf("CloseReason = %v, want %v", why, notify.CloseQueueFull)
			}
			for _, r := range []string{notify.ReasonQueueFull, notify.ReasonReplayOverflow} {
				want := 0.0
				if r == tt.reason {
					want = 1 // once, however many frames came after
				}
				if got := metricstest.Value(t, reg, "notifyd_ws_queue_full_closes_total", "reason", r); got != want {
					t.Errorf("queue full closes {reason=%s} = %v, want %v", r, got, want)
				}
			}
		})
	}
}

// TestServiceMetrics creates notifications through the Service on a real
// store and reads what an operator would: the counts by path, and frames
// stamped for the latency histogram.
func TestServiceMetrics(t *testing.T) {
	st := storetest.Open(t)
	reg := prometheus.NewRegistry()
	hub := notify.NewHub(notify.HubConfig{SendQueue: 256, MaxPerUser: 16, Observer: metrics.New(reg)})
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notifytest.BatchConfig(), nil, nil)
	ctx := context.Background()
	alice := storetest.User(t, st, "alice")
	bob := storetest.User(t, st, "bob")
	sub := register(t, hub, alice.ID, 1)
	sub.GoLive(0)

	before := time.Now()
	if _, err := svc.Notify(ctx, alice.ID, notify.NewNotification{Title: "one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Notify(ctx, bob.ID+1000, notify.NewNotification{Title: "nobody"}); notify.ErrorCode(err) != notify.ENOTFOUND {
		t.Fatalf("Notify to an unknown user: %v, want %s", err, notify.ENOTFOUND)
	}
	// Duplicates merged, unknown users skipped: 2 created.
	if n, err := svc.NotifyMany(ctx, []int64{alice.ID, bob.ID, alice.ID, bob.ID + 1000}, notify.NewNotification{Title: "all"}); err != nil || n != 2 {
		t.Fatalf("NotifyMany = %d, %v; want 2", n, err)
	}
	if got := metricstest.Value(t, reg, "notifyd_notifications_created_total", "path", notify.PathSingle); got != 1 {
		t.Errorf("created single = %v, want 1", got)
	}
	if got := metricstest.Value(t, reg, "notifyd_notifications_created_total", "path", notify.PathBulk); got != 2 {
		t.Errorf("created bulk = %v, want 2", got)
	}
	// One call at a time: each is a batch of its own, the one that
	// found nobody included.
	if got := metricstest.Value(t, reg, "notifyd_batch_store_seconds"); got != 3 {
		t.Errorf("batches timed = %v, want 3", got)
	}
	// And each call's wait for its batch: one call per batch here.
	if got := metricstest.Value(t, reg, "notifyd_batch_wait_seconds"); got != 3 {
		t.Errorf("calls timed waiting = %v, want 3", got)
	}

	for range 2 {
		f, ok := sub.Next()
		if !ok {
			t.Fatal("fewer than 2 frames queued")
		}
		if f.Type != "notification" || f.At.Before(before) || f.At.After(time.Now()) {
			t.Errorf("frame Type %q At %v, want a notification stamped during the test", f.Type, f.At)
		}
	}
}
