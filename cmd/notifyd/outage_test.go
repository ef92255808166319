package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestDatabaseOutage is issue 4's database outage: notifyd reaches
// Postgres through a proxy that the test stops for ~10 s with two sockets
// open. Meanwhile the process stays up, publisher calls answer 503 in the
// JSON error shape quickly, /readyz is 503, /healthz 200, the open sockets
// stay open and answer pings, and a new socket is told to try again later
// (1013). Once the proxy is back on the same port, publishing works again
// within 2 s and the open sockets receive the new notifications.
func TestDatabaseOutage(t *testing.T) {
	if !storetest.Postgres(t) {
		t.Skip("the database outage test needs Postgres: set NOTIFYD_TEST_DATABASE_URL")
	}
	const (
		outage = 10 * time.Second
		// quickly is how fast a call must fail while the database is down
		// (issue 4: "503 quickly, not a hang"). It is well under the 5 s
		// database.query_timeout, so a call that waits for the dead
		// database instead of failing at once is caught.
		quickly = 3 * time.Second
	)
	env, proxy := proxiedEnv(t)
	in := start(t, env)
	api := testkit.NewAPI(t, in.HTTPURL)
	ctx := context.Background()

	_, secret := testkit.NewExternalUser(t, in.publisher(t), "outage")
	tabs := []*testkit.Socket{in.connect(t, secret), in.connect(t, secret)}
	before := api.Publish(ctx, testAPIKey, "outage", "before the outage")
	if before.Status != http.StatusCreated {
		t.Fatalf("publish before the outage: %v", before)
	}
	for i, tab := range tabs {
		if got := tab.NextNotification(t).Notification.ID; got != before.ID {
			t.Fatalf("tab %d got %d, want %d", i, got, before.ID)
		}
	}

	proxy.Stop()
	down := time.Now()
	var slowest time.Duration
	for round := 0; time.Since(down) < outage; round++ {
		res := api.Publish(ctx, testAPIKey, "outage", "during the outage")
		if res.Err != nil || res.Status != http.StatusServiceUnavailable || res.Code != notify.EUNAVAILABLE {
			t.Fatalf("publish during the outage: %v, want 503 %s", res, notify.EUNAVAILABLE)
		}
		if res.Elapsed > quickly {
			t.Fatalf("publish during the outage took %v, want a 503 within %v", res.Elapsed, quickly)
		}
		slowest = max(slowest, res.Elapsed)
		ready := api.Call(ctx, testkit.Request{Method: "GET", Path: "/readyz"})
		if ready.Status != http.StatusServiceUnavailable || ready.Elapsed > quickly {
			t.Fatalf("/readyz during the outage: %v, want 503 within %v", ready, quickly)
		}
		if live := api.Call(ctx, testkit.Request{Method: "GET", Path: "/healthz"}); live.Status != http.StatusOK {
			t.Fatalf("/healthz during the outage: %v, want 200", live)
		}
		for i, tab := range tabs {
			ping(t, tab, i)
		}
		if round == 0 {
			// A socket opened now cannot be authenticated: it is told to
			// come back later, not that its secret is bad (4401 would make
			// the client sign out).
			refusedWhileDown(t, in.WSURL, secret)
		}
		select {
		case err := <-in.done:
			t.Fatalf("run returned during the outage: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
	}

	t.Logf("slowest 503 during the outage: %v", slowest)
	proxy.Start(t)
	up := time.Now()
	after := publishWhenBack(ctx, t, api, "outage", "after the outage", up)
	t.Logf("publishing worked again %v after the database came back", time.Since(up))
	for i, tab := range tabs {
		if got := tab.NextNotification(t).Notification.ID; got != after.ID {
			t.Fatalf("tab %d got %d after the outage, want %d", i, got, after.ID)
		}
	}
	if ready := api.Call(ctx, testkit.Request{Method: "GET", Path: "/readyz"}); ready.Status != http.StatusOK {
		t.Fatalf("/readyz after the outage: %v", ready)
	}
	// Nothing published during the outage was stored behind a 503.
	testkit.CheckExactlyOnce(t, "database", api.NotificationIDs(t, secret), []int64{before.ID, after.ID})
}

// TestDatabaseHang is the other kind of outage: the database stops
// answering without refusing anything (a network partition, a hung
// server), which the proxy simulates by holding every byte. Calls then
// wait for database.query_timeout (1 s here) and answer 503 instead of
// hanging, /readyz is 503, and the open socket answers pings. Once the
// bytes flow again, publishing works within 2 s. A publish that timed out
// may still commit when the held bytes reach the database (its outcome is
// unknown to notifyd): a socket resuming with after_id gets it, and so
// does the open socket, in id order.
func TestDatabaseHang(t *testing.T) {
	if !storetest.Postgres(t) {
		t.Skip("the database hang test needs Postgres: set NOTIFYD_TEST_DATABASE_URL")
	}
	const (
		queryTimeout = time.Second
		// bounded: a call may take the query timeout, plus the margin a
		// loaded test machine needs; a hang would take forever.
		bounded = queryTimeout + 2*time.Second
		hang    = 5 * time.Second
	)
	env, proxy := proxiedEnv(t)
	env["NOTIFYD_DATABASE_QUERY_TIMEOUT"] = queryTimeout.String()
	in := start(t, env)
	api := testkit.NewAPI(t, in.HTTPURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, secret := testkit.NewExternalUser(t, in.publisher(t), "hang")
	before := api.Publish(ctx, testAPIKey, "hang", "before the hang")
	if before.Status != http.StatusCreated {
		t.Fatalf("publish before the hang: %v", before)
	}
	tab, err := testkit.Open(ctx, in.WSURL, testkit.SecretAuth(secret, before.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.CloseNow()

	proxy.Freeze()
	for frozen := time.Now(); time.Since(frozen) < hang; {
		res := api.Publish(ctx, testAPIKey, "hang", "during the hang")
		if res.Err != nil || res.Status != http.StatusServiceUnavailable || res.Code != notify.EUNAVAILABLE {
			t.Fatalf("publish during the hang: %v, want 503 %s", res, notify.EUNAVAILABLE)
		}
		if res.Elapsed > bounded {
			t.Fatalf("publish during the hang took %v, want a 503 within %v", res.Elapsed, bounded)
		}
		ready := api.Call(ctx, testkit.Request{Method: "GET", Path: "/readyz"})
		if ready.Status != http.StatusServiceUnavailable || ready.Elapsed > bounded {
			t.Fatalf("/readyz during the hang: %v, want 503 within %v", ready, bounded)
		}
		if err := pingConn(ctx, tab); err != nil {
			t.Fatalf("open socket during the hang: %v", err)
		}
	}

	proxy.Thaw()
	after := publishWhenBack(ctx, t, api, "hang", "after the hang", time.Now())

	// The open tab reads until a notification, resuming as a real client
	// would if the server closes it (4008, dropped).
	var live []int64
	last := before.ID
	readUntil := func(id int64) {
		for last < id {
			m, err := tab.ReadCtx(ctx)
			if err != nil {
				tab.CloseNow()
				if tab, err = testkit.Open(ctx, in.WSURL, testkit.SecretAuth(secret, last), nil); err != nil {
					t.Fatalf("tab resumes after %d: %v", last, err)
				}
				continue
			}
			if m.Type == "notification" {
				last = m.Notification.ID
				live = append(live, last)
			}
		}
	}
	defer func() { tab.CloseNow() }()
	readUntil(after.ID)

	var stored []int64
	for _, id := range api.NotificationIDs(t, secret) {
		if id > before.ID {
			stored = append(stored, id)
		}
	}
	t.Logf("%d publish(es) answered 503 during the hang were stored anyway", len(stored)-1)
	// A publish held up by the hang may also commit after "after the
	// hang": the database orders the transactions as their bytes reach
	// it. The open tab then gets it next, from the catch-up notifyd
	// retries in the background (notify/settle.go); a missing row makes
	// the read below time out with the test's context.
	readUntil(stored[len(stored)-1])

	// A socket resuming from before the hang gets everything stored.
	resumed, err := testkit.Open(ctx, in.WSURL, testkit.SecretAuth(secret, before.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.CloseNow()
	var replayed []int64
	for len(replayed) < len(stored) {
		m, err := resumed.ReadCtx(ctx)
		if err != nil {
			t.Fatalf("resumed socket: %v", err)
		}
		if m.Type == "notification" {
			replayed = append(replayed, m.Notification.ID)
		}
	}
	testkit.CheckExactlyOnce(t, "socket resumed after the hang", replayed, stored)

	// The open socket was caught up with what committed behind a 503
	// (notify/settle.go), in id order, exactly once.
	t.Run("committed behind a 503 reaches the open socket", func(t *testing.T) {
		testkit.CheckExactlyOnce(t, "open socket", live, stored)
	})
}

// pingConn sends a client ping and expects the pong as the next message.
// recovery is the issues' "works again within 2 s" once the database is
// back.
const recovery = 2 * time.Second

// publishWhenBack publishes title to the external user ext until the API
// answers 201 and returns that answer, failing if it still fails recovery
// after back, when the database came back.
func publishWhenBack(ctx context.Context, tb testing.TB, api *testkit.API, ext, title string, back time.Time) testkit.Result {
	tb.Helper()
	for {
		r := api.Publish(ctx, testAPIKey, ext, title)
		if r.Status == http.StatusCreated {
			return r
		}
		if time.Since(back) > recovery {
			tb.Fatalf("publishing still fails %v after the database came back: %v", recovery, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pingConn(ctx context.Context, conn *testkit.Socket) error {
	if err := conn.Conn().Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	m, err := conn.ReadCtx(ctx)
	if err != nil {
		return fmt.Errorf("pong: %w", err)
	}
	if m.Type != "pong" {
		return fmt.Errorf("got a %q message, want a pong", m.Type)
	}
	return nil
}

// ping sends a client ping and expects the pong as the next message.
func ping(tb testing.TB, c *testkit.Socket, i int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pingConn(ctx, c); err != nil {
		tb.Fatalf("tab %d: %v", i, err)
	}
}

// refusedWhileDown opens a socket while the database is down and expects
// close 1013 (try again later) after the auth message.
func refusedWhileDown(tb testing.TB, wsURL, secret string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := testkit.Open(ctx, wsURL, testkit.SecretAuth(secret, 0), nil)
	if err == nil {
		conn.CloseNow()
		tb.Fatalf("a socket was authenticated while the database was down")
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1013 {
		tb.Fatalf("new socket during the outage: %v, want close 1013", err)
	}
}
