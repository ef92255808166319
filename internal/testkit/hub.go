package testkit

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// Subscribe registers a live subscriber of userID in hub, as the
// websocket server does for a socket, for suites that have no websocket
// server; it is unregistered when the test ends.
func Subscribe(tb testing.TB, hub *notify.Hub, userID, sessionID int64) *notify.Subscriber {
	tb.Helper()
	sub, err := hub.Register(userID, sessionID)
	if err != nil {
		tb.Fatalf("register: %v", err)
	}
	tb.Cleanup(func() { hub.Unregister(sub) })
	sub.GoLive(0)
	return sub
}

// HubFrame returns the next frame queued for sub, decoded, waiting at
// most wait: an API call publishes before it answers, so a frame it
// caused is already queued; wait only guards frames of background work.
func HubFrame(tb testing.TB, sub *notify.Subscriber, wait time.Duration) map[string]any {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	f, err := notifytest.Next(ctx, sub)
	if err != nil {
		tb.Fatalf("no frame within %s: %v", wait, err)
	}
	var m map[string]any
	if err := json.Unmarshal(f.Data, &m); err != nil {
		tb.Fatalf("frame %s: %v", f.Data, err)
	}
	return m
}

// WantNoHubFrame fails if sub has a frame queued.
func WantNoHubFrame(tb testing.TB, sub *notify.Subscriber) {
	tb.Helper()
	if f, ok := sub.Next(); ok {
		tb.Fatalf("unexpected frame %s", f.Data)
	}
}
