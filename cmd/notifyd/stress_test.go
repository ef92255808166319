package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/wsserver"
)

// TestStressPublishersAndResumingClients is issue 4's stress test: 8
// publishers create notifications for one user concurrently through the
// publisher API while 4 clients of that user disconnect at random moments
// and resume with after_id = the last id they saw. At the end every client
// has seen every id the database holds for the user exactly once, in
// strictly increasing order. It runs on SQLite, and on Postgres when
// NOTIFYD_TEST_DATABASE_URL is set.
func TestStressPublishersAndResumingClients(t *testing.T) {
	const (
		publishers   = 8
		perPublisher = 150
		clients      = 4
		endTitle     = "end of stress"
	)
	in := start(t, testEnv(t))
	api := testkit.NewAPI(t, in.HTTPURL)
	pub := in.publisher(t)
	_, secret := testkit.NewExternalUser(t, pub, "stress")

	// Bounds the whole test: a lost notification shows up as a client
	// that never sees the last one, and must fail, not hang.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	logs := make([]*resumingClient, clients)
	var readers sync.WaitGroup
	for i := range logs {
		logs[i] = &resumingClient{name: fmt.Sprintf("client %d", i), wsURL: in.WSURL, secret: secret, endTitle: endTitle,
			rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		readers.Add(1)
		go func() {
			defer readers.Done()
			logs[i].run(ctx)
		}()
	}

	var (
		pubs   sync.WaitGroup
		mu     sync.Mutex
		failed []string
	)
	for p := range publishers {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			for i := range perPublisher {
				if _, err := pub.Notify(ctx, "stress", client.NewNotification{Title: fmt.Sprintf("p%d-%d", p, i)}); err != nil {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("publisher %d #%d: %v", p, i, err))
					mu.Unlock()
					return
				}
			}
		}()
	}
	pubs.Wait()
	if len(failed) > 0 {
		t.Fatalf("publishing failed: %v", failed)
	}
	// Published after every other one, so its id is the highest: a
	// client that has seen it has had its chance to see all the others.
	if _, err := pub.Notify(ctx, "stress", client.NewNotification{Title: endTitle}); err != nil {
		t.Fatalf("last notification: %v", err)
	}
	readers.Wait()

	want := api.NotificationIDs(t, secret)
	if len(want) != publishers*perPublisher+1 {
		t.Fatalf("database holds %d notifications, want %d", len(want), publishers*perPublisher+1)
	}
	for _, c := range logs {
		if c.err != nil {
			t.Errorf("%s: %v", c.name, c.err)
			continue
		}
		testkit.CheckExactlyOnce(t, c.name, c.ids, want)
		t.Logf("%s: %d ids over %d connections", c.name, len(c.ids), c.connections)
	}
}

// resumingClient is one tab of the stress test: it reads notifications,
// drops its connection after a random number of them, and resumes from the
// last id it saw, until it sees the notification titled endTitle.
type resumingClient struct {
	name, wsURL, secret, endTitle string
	rng                           *rand.Rand

	ids         []int64 // every notification id received, in order
	connections int
	err         error
}

func (c *resumingClient) run(ctx context.Context) {
	for {
		done, err := c.connection(ctx)
		if err != nil {
			c.err = err
			return
		}
		if done {
			return
		}
		// Sometimes reconnect at once, sometimes after a pause during
		// which notifications pile up for the replay.
		if c.rng.IntN(2) == 0 {
			time.Sleep(time.Duration(c.rng.IntN(30)) * time.Millisecond)
		}
	}
}

// connection runs one connection: it resumes after the last id seen and
// reads until its random budget is spent (then drops the connection, one
// way or another) or the last notification arrives (done).
func (c *resumingClient) connection(ctx context.Context) (done bool, err error) {
	var last int64
	if len(c.ids) > 0 {
		last = c.ids[len(c.ids)-1]
	}
	conn, err := testkit.Open(ctx, c.wsURL, testkit.SecretAuth(c.secret, last), nil)
	if err != nil {
		return false, fmt.Errorf("connect after %d: %w", last, err)
	}
	c.connections++
	defer conn.CloseNow()
	budget := c.rng.IntN(120) // 0: leave right after the hello
	for range budget {
		m, err := conn.ReadCtx(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == wsserver.CloseQueueFull {
				// Allowed to a client that lags; it resumes like after
				// any other drop.
				return false, nil
			}
			return false, fmt.Errorf("read: %w", err)
		}
		switch m.Type {
		case "notification":
			c.ids = append(c.ids, m.Notification.ID)
			if m.Notification.Title == c.endTitle {
				conn.Close()
				return true, nil
			}
		case "resync":
			return false, errors.New("got resync: the client fell more than ws.max_replay behind")
		default:
			return false, fmt.Errorf("unexpected %q message", m.Type)
		}
	}
	// Leave abruptly or politely: the server must cope with both, and
	// whatever it had queued for this connection is replayed next time.
	if c.rng.IntN(2) == 0 {
		conn.CloseNow()
	} else {
		_ = conn.Conn().Close(websocket.StatusNormalClosure, "bye")
	}
	return false, nil
}
