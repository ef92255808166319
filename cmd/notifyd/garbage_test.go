package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/internal/testkit"
	"go.uber.org/goleak"
)

// TestGarbageConnections is issue 4's "1,000 connections sending garbage or
// nothing": every kind of bad client at once, a few hundred at a time,
// against the websocket port of run(). Afterwards nothing has panicked,
// /healthz answers, a real client authenticates and receives a
// notification, and every goroutine the garbage started has ended.
func TestGarbageConnections(t *testing.T) {
	const (
		total       = 1000
		concurrency = 250
		// serverClose bounds how long a client waits for the server to
		// hang up on it. The slowest kinds end by a server timeout: 5 s
		// of ReadHeaderTimeout for a connection that sends nothing, and
		// coder/websocket's 5 s wait for the answer to a close frame from
		// a raw client that never answers.
		serverClose = 20 * time.Second
	)
	env := testEnv(t)
	env["NOTIFYD_WS_AUTH_TIMEOUT"] = "300ms"
	// Every garbage client comes from 127.0.0.1, 250 at a time: this test
	// is about what each does once upgraded, not about the cap on sockets
	// waiting to authenticate (wsserver's TestUnauthenticatedCap*).
	env["NOTIFYD_WS_MAX_UNAUTHENTICATED_PER_ADDRESS"] = "1000"
	// Debug logs of 1,000 connections say nothing a failure would need.
	env["NOTIFYD_LOG_LEVEL"] = "info"
	in := start(t, env)
	api := testkit.NewAPI(t, in.HTTPURL)
	// One connection pool for both clients, closed before each goroutine
	// count.
	pub := testkit.Publisher(t, in.HTTPURL, testAPIKey, client.WithHTTPClient(api.Client))
	_, secret := testkit.NewExternalUser(t, pub, "garbage")
	wsAddr := strings.TrimSuffix(strings.TrimPrefix(in.WSURL, "ws://"), "/ws")

	// Baseline: once a real socket has come and gone, so that whatever
	// the first connection starts for good (pools, cleaners) is counted.
	warm, err := testkit.Open(context.Background(), in.WSURL, testkit.SecretAuth(secret, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	api.Client.CloseIdleConnections()
	before := settledGoroutines()
	baseline := goleak.IgnoreCurrent()

	kinds := garbageKinds(wsAddr, in.WSURL)
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, concurrency)
		mu       sync.Mutex
		failures = map[string][]string{}
		counts   = map[string]int{}
	)
	began := time.Now()
	for i := range total {
		k := kinds[i%len(kinds)]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			err := k.run(rng, serverClose)
			mu.Lock()
			defer mu.Unlock()
			counts[k.name]++
			if err != nil {
				failures[k.name] = append(failures[k.name], err.Error())
			}
		}()
	}
	wg.Wait()
	t.Logf("%d garbage connections in %v: %v", total, time.Since(began), counts)
	for name, errs := range failures {
		t.Errorf("%s: %d of %d failed, e.g. %v", name, len(errs), counts[name], errs[:min(len(errs), 3)])
	}

	// Still healthy: alive, ready, and delivering.
	if res := api.Call(context.Background(), testkit.Request{Method: "GET", Path: "/healthz"}); res.Status != http.StatusOK {
		t.Fatalf("/healthz after the garbage: %v", res)
	}
	if res := api.Call(context.Background(), testkit.Request{Method: "GET", Path: "/readyz"}); res.Status != http.StatusOK {
		t.Fatalf("/readyz after the garbage: %v", res)
	}
	c := in.connect(t, secret)
	sent, err := pub.Notify(context.Background(), "garbage", client.NewNotification{Title: "still here"})
	if err != nil {
		t.Fatalf("publish after the garbage: %v", err)
	}
	if got := c.NextNotification(t).Notification.ID; got != sent.ID {
		t.Fatalf("real client got %d, want %d", got, sent.ID)
	}
	c.Close()

	if logs := in.logs.String(); strings.Contains(logs, "panic") {
		t.Fatalf("the server logged a panic:\n%s", logs)
	}

	// No leak: every goroutine the garbage started has ended. Connections
	// the database pool opened for the auth lookups may stay idle in the
	// pool (up to database.max_open_conns), each with pgx's background
	// reader parked on it: those are the pool's, not the garbage's.
	api.Client.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := goleak.Find(baseline,
			goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgconn/internal/bgreader.(*BGReader).bgRead"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left 30 s after the garbage: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

// settledGoroutines returns runtime.NumGoroutine once it has stopped
// changing for a moment.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 100 {
		time.Sleep(50 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}
