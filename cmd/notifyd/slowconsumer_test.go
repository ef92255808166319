package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/wsserver"
)

// TestSlowConsumer is issue 4's slow consumer: with ws.send_queue = 16,
// Alice's client stops reading while a publisher floods her with events and
// notifications. Her socket is cut off once its queue fills (4008, or a
// dropped connection when even the close frame cannot be written), while
// Bob's client, on the same server, receives every one of his
// notifications, published the whole time; his publish→socket latency is
// logged (p50/p99/max), not asserted. Alice then resumes with after_id and
// gets each of her notifications exactly once.
func TestSlowConsumer(t *testing.T) {
	const (
		bobMin     = 200  // Bob's notifications, at least: more while Alice's socket is open
		afterGone  = 10   // notifications for Alice once her socket is gone
		floodLimit = 5000 // publishes to Alice before the test gives up on her being cut off
		bobLast    = "bob: last"
		aliceLast  = "alice: last"
	)
	env := testEnv(t)
	env["NOTIFYD_WS_SEND_QUEUE"] = "16"
	// How long a write to a stuck client may block before the connection
	// is dropped: shorter than the default 10 s to keep the test short,
	// long enough that Bob's notifications cross a stretch of time when
	// Alice's writer is stuck and her queue full.
	env["NOTIFYD_WS_WRITE_TIMEOUT"] = "3s"
	// Alice's resume must replay all she missed, however long her socket
	// took to fill up (at most floodLimit/4 notifications, then
	// afterGone): past ws.max_replay she would get a resync instead,
	// which is another test's subject. Without -race the server is quick
	// enough to store over 1,000 before she is cut off.
	env["NOTIFYD_WS_MAX_REPLAY"] = fmt.Sprint(floodLimit/4 + afterGone + 1)
	in := start(t, env)
	api := testkit.NewAPI(t, in.HTTPURL)
	pub := in.publisher(t)
	_, aliceSecret := testkit.NewExternalUser(t, pub, "alice")
	_, bobSecret := testkit.NewExternalUser(t, pub, "bob")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Alice's client reads nothing after the hello: once the kernel
	// buffers between her and the server are full (a few MiB), the
	// server's writes to her stall.
	stalled, err := testkit.Open(ctx, in.WSURL, testkit.SecretAuth(aliceSecret, 0), nil)
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	defer stalled.CloseNow()
	bob, err := testkit.Open(ctx, in.WSURL, testkit.SecretAuth(bobSecret, 0), nil)
	if err != nil {
		t.Fatalf("bob: %v", err)
	}
	defer bob.CloseNow()

	// Bob's reader: every notification with its arrival time, until the
	// last one.
	type arrival struct {
		id    int64
		title string
		at    time.Time
	}
	bobRead := make(chan []arrival, 1)
	bobErr := make(chan error, 1)
	go func() {
		var got []arrival
		for {
			m, err := bob.ReadCtx(ctx)
			if err != nil {
				bobErr <- err
				return
			}
			if m.Type != "notification" {
				bobErr <- fmt.Errorf("bob got a %q message", m.Type)
				return
			}
			got = append(got, arrival{id: m.Notification.ID, title: m.Notification.Title, at: time.Now()})
			if m.Notification.Title == bobLast {
				bobRead <- got
				return
			}
		}
	}()

	// The flood: 16 KiB events to Alice and, every fourth call, a
	// notification, until her socket is gone; then a few more
	// notifications, which only a resume can deliver.
	aliceGone := make(chan struct{})
	floodErr := make(chan error, 1)
	go func() {
		floodErr <- func() error {
			big := strings.Repeat("x", 16000)
			for i := 0; ; i++ {
				if i == floodLimit {
					return fmt.Errorf("alice's socket still open after %d publishes", i)
				}
				if i%4 == 3 {
					if _, err := pub.Notify(ctx, "alice", client.NewNotification{Title: fmt.Sprintf("alice: %d", i)}); err != nil {
						return fmt.Errorf("notify alice: %w", err)
					}
					continue
				}
				sockets, err := pub.SendEvent(ctx, "alice", "flood", big)
				if err != nil {
					return fmt.Errorf("event to alice: %w", err)
				}
				if sockets == 0 {
					break
				}
			}
			close(aliceGone)
			for i := range afterGone {
				if _, err := pub.Notify(ctx, "alice", client.NewNotification{Title: fmt.Sprintf("alice: after %d", i)}); err != nil {
					return fmt.Errorf("notify alice: %w", err)
				}
			}
			return nil
		}()
	}()

	// Bob's publisher, one at a time, for as long as Alice's socket is
	// open (and at least bobMin times).
	sent := make(map[string]time.Time)
	var bobIDs []int64
	for i := 0; ; i++ {
		title := fmt.Sprintf("bob: %d", i)
		if i >= bobMin && closed(aliceGone) {
			title = bobLast
		}
		sent[title] = time.Now()
		n, err := pub.Notify(ctx, "bob", client.NewNotification{Title: title})
		if err != nil {
			t.Fatalf("notify bob: %v", err)
		}
		bobIDs = append(bobIDs, n.ID)
		if title == bobLast {
			break
		}
		// Paced, as another user's ordinary traffic: back to back, on
		// SQLite, Bob's writes would starve Alice's flood of the write
		// lock (SQLite's busy wait is not fair).
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-floodErr; err != nil {
		t.Fatal(err)
	}
	var arrivals []arrival
	select {
	case arrivals = <-bobRead:
	case err := <-bobErr:
		t.Fatalf("bob's socket: %v", err)
	}

	var got []int64
	var latencies []time.Duration
	for _, a := range arrivals {
		got = append(got, a.id)
		latencies = append(latencies, a.at.Sub(sent[a.title]))
	}
	testkit.CheckExactlyOnce(t, "bob", got, bobIDs)
	slices.Sort(latencies)
	t.Logf("bob's publish→socket latency over %d notifications while alice was stuck: p50 %v, p99 %v, max %v",
		len(latencies), latencies[len(latencies)/2], latencies[len(latencies)*99/100], latencies[len(latencies)-1])

	// Alice finally reads: what was buffered, then 4008 or the end of a
	// dropped connection (1006 to a browser), never another close code.
	var aliceSeen []int64
	for {
		m, err := stalled.ReadCtx(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != -1 && code != wsserver.CloseQueueFull {
				t.Fatalf("alice's socket closed with %d (%v), want 4008 or a dropped connection", code, err)
			}
			t.Logf("alice was cut off after %d notifications: %v", len(aliceSeen), err)
			break
		}
		switch m.Type {
		case "notification":
			aliceSeen = append(aliceSeen, m.Notification.ID)
		case "event":
		default:
			t.Fatalf("alice got a %q message", m.Type)
		}
	}

	// Resume from the last id seen; one more notification marks the end
	// of the replay.
	var last int64
	if len(aliceSeen) > 0 {
		last = aliceSeen[len(aliceSeen)-1]
	}
	resumed, err := testkit.Open(ctx, in.WSURL, testkit.SecretAuth(aliceSecret, last), nil)
	if err != nil {
		t.Fatalf("alice resumes after %d: %v", last, err)
	}
	defer resumed.CloseNow()
	if _, err := pub.Notify(ctx, "alice", client.NewNotification{Title: aliceLast}); err != nil {
		t.Fatalf("notify alice: %v", err)
	}
	cutOff := len(aliceSeen)
	for {
		m, err := resumed.ReadCtx(ctx)
		if err != nil {
			t.Fatalf("alice's resumed socket: %v", err)
		}
		if m.Type != "notification" {
			t.Fatalf("alice's resumed socket got a %q message", m.Type)
		}
		aliceSeen = append(aliceSeen, m.Notification.ID)
		if m.Notification.Title == aliceLast {
			break
		}
	}
	t.Logf("alice's resume delivered %d notifications", len(aliceSeen)-cutOff)
	testkit.CheckExactlyOnce(t, "alice", aliceSeen, api.NotificationIDs(t, aliceSecret))
}

// closed reports whether ch is closed.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
