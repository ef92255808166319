package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestMain lets the test binary stand in for notifybench when the tool
// starts a baseline or a target's client in a process of its own (-serve
// and -only re-run the program it is in, here the test binary).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "-serve" || os.Args[1] == "-only") {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestRawSmoke runs the whole tool against the bare fan-out (a child
// process, driven over HTTP) and checks that the counts add up. It asserts
// nothing about timings.
func TestRawSmoke(t *testing.T) {
	tests := []struct {
		name string
		args []string
		mode string
	}{
		{"one request per notification", []string{"-rate", "50"}, "single"},
		{"bulk requests", []string{"-rate", "60", "-batch", "2"}, "batch"},
		{"as fast as possible", []string{"-rate", "0", "-publishers", "2"}, "single"},
		{"fan-out rounds", []string{"-fanout"}, "fanout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := runSummary(t, append([]string{"-notifyd=false", "-raw", "-users", "3", "-sockets", "6",
				"-duration", "1s", "-timeout", "1m", "-idle", "0s"}, tt.args...)...)
			if sum.Notifyd != nil || sum.Raw == nil || sum.Ratio != nil || sum.Comparison != nil {
				t.Fatalf("want only a raw section, got %+v", sum)
			}
			p := sum.Raw.Publish
			checkCounts(t, sum.Raw, 6, 2)
			if p.Mode != tt.mode {
				t.Errorf("mode = %s, want %s", p.Mode, tt.mode)
			}
			// Its own process: its RSS and CPU are measured, and the
			// requests counted are the HTTP ones.
			if r, c := sum.Raw.RSS, sum.Raw.CPU; r == nil || r.Error != "" || c == nil || c.Error != "" || c.Requests != p.Requests {
				t.Errorf("rss %+v, cpu %+v: want both measured over the %d requests", r, c, p.Requests)
			}
			if tt.mode == "fanout" && p.Rounds*3 != p.Notifications {
				t.Errorf("fan-out: %d rounds but %d notifications, want 3 per round", p.Rounds, p.Notifications)
			}
		})
	}
}

// runSummary runs the tool with args and -json and returns its summary.
func runSummary(tb testing.TB, args ...string) summary {
	tb.Helper()
	var out, stderr bytes.Buffer
	err := run(context.Background(), append(args, "-json"), func(string) string { return "" }, strings.NewReader(""), &out, &stderr)
	if err != nil {
		tb.Fatalf("run %q: %v\nstderr:\n%s", args, err, stderr.String())
	}
	var sum summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		tb.Fatalf("summary is not JSON: %v\n%s", err, out.String())
	}
	return sum
}

// checkCounts checks that every socket connected, no publish failed, and
// every notification reached the perUser sockets of its user exactly once
// and in order.
func checkCounts(tb testing.TB, ts *targetSummary, sockets, perUser int64) {
	tb.Helper()
	if ts == nil {
		tb.Fatal("target missing from the summary")
	}
	so, p, d := ts.Sockets, ts.Publish, ts.Delivery
	checks := []struct {
		name      string
		got, want any
	}{
		{"sockets connected", so.Connected, sockets},
		{"sockets failed", so.Failed, int64(0)},
		{"failed requests", p.Failed, int64(0)},
		{"some notifications published", p.Notifications > 0, true},
		{"frames expected", d.Expected, perUser * p.Notifications},
		{"frames delivered", d.Delivered, d.Expected},
		{"missing", d.Missing, int64(0)},
		{"duplicates", d.Duplicates, int64(0)},
		{"out of order", d.OutOfOrder, int64(0)},
		{"other frames", d.Other, int64(0)},
		{"a latency per frame", d.Latency.Count, uint64(d.Delivered)},
		{"closed by the server", len(d.CloseCodes), 0},
		{"drained", d.Drained, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			tb.Errorf("%s: %s = %v, want %v", ts.Target, c.name, c.got, c.want)
		}
	}
}

// TestChildProtocol runs the -child side in-process: sockets in on stdin,
// reports out on stdout, a final report after stdin ends.
func TestChildProtocol(t *testing.T) {
	srv, err := startRawServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runChild(t.Context(), inR, outW)
		outW.Close()
	}()
	in := childInput{WS: srv.url(), Timeout: 10 * time.Second, Sockets: socketSpecs(rawUsers(2), 4, nil)}
	if err := json.NewEncoder(inW).Encode(in); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(outR)
	deadline := time.Now().Add(30 * time.Second)
	next := func() fleetStats {
		t.Helper()
		if time.Now().After(deadline) {
			t.Fatal("child reports did not reach the expected state in time")
		}
		var s fleetStats
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("read child report: %v", err)
		}
		return s
	}

	s := next()
	for !s.ConnectDone {
		s = next()
	}
	if s.Connected != 4 || s.Failed != 0 {
		t.Fatalf("child connected %d, failed %d (%v), want 4 and 0", s.Connected, s.Failed, s.ConnectErrors)
	}
	api := newPublishAPI("key", 2, &counterStore{}, srv)
	for _, u := range []int64{1, 2} {
		in := bareRequest{Title: "bench", Content: contentPrefix + strconv.FormatInt(time.Now().UnixNano(), 10) + " seq=1", Style: "info"}
		if _, err := api.notify(t.Context(), u, in); err != nil {
			t.Fatal(err)
		}
	}
	for s.Delivered < 4 {
		s = next()
	}
	inW.Close() // the parent is done: the child closes its sockets
	for !s.Final {
		s = next()
	}
	if s.Delivered != 4 || s.Duplicates != 0 || s.Latency.Count != 4 || len(s.CloseCodes) != 0 {
		t.Errorf("final report: delivered %d, duplicates %d, latencies %d, close codes %v; want 4, 0, 4, none",
			s.Delivered, s.Duplicates, s.Latency.Count, s.CloseCodes)
	}
	if err := <-done; err != nil {
		t.Errorf("runChild: %v", err)
	}
}

// benchDB returns the Postgres of the suite, or skips: the floor and the
// started instances persist in Postgres, and the suite runs on Postgres
// only when NOTIFYD_TEST_DATABASE_URL is set.
func benchDB(tb testing.TB) string {
	tb.Helper()
	u := strings.TrimSpace(os.Getenv("NOTIFYD_TEST_DATABASE_URL"))
	if u == "" {
		tb.Skip("the floor and -start need Postgres: set NOTIFYD_TEST_DATABASE_URL")
	}
	return u
}

// buildNotifyd builds notifyd from this tree for the started instances.
func buildNotifyd(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "notifyd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/notifyd/notifyd/cmd/notifyd").CombinedOutput()
	switch {
	case errors.Is(err, exec.ErrNotFound):
		tb.Skip("go tool not found: cannot build notifyd")
	case err != nil:
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// countRows returns the single count of query on dbURL.
func countRows(tb testing.TB, dbURL, query string, args ...any) int {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestFloorSmoke runs the persisted floor and the raw baseline in turn,
// with an Idempotency-Key on every request, and checks the counts, the
// comparison and that the scratch schema is gone. No timings.
func TestFloorSmoke(t *testing.T) {
	db := benchDB(t)
	prefix := "floorsmoke" + randomSuffix()
	sum := runSummary(t, "-notifyd=false", "-floor", "-raw", "-db", db, "-prefix", prefix, "-idempotency-keys",
		"-users", "3", "-sockets", "6", "-rate", "50", "-duration", "1s", "-timeout", "1m", "-idle", "0s", "-check")
	checkCounts(t, sum.Floor, 6, 2)
	checkCounts(t, sum.Raw, 6, 2)
	if c := sum.Floor.CPU; c == nil || c.Error != "" || c.Requests != sum.Floor.Publish.Requests {
		t.Errorf("floor cpu %+v: want it measured over the %d requests", c, sum.Floor.Publish.Requests)
	}
	var names []string
	for _, r := range sum.Comparison {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "floor,raw,floor ÷ raw" {
		t.Errorf("comparison rows %q, want floor, raw, floor ÷ raw", names)
	}
	if sum.Load.Start == "" || sum.Load.End == "" || !strings.Contains(sum.Command, "-floor") {
		t.Errorf("load %+v, command %q: want both loads and the command line", sum.Load, sum.Command)
	}
	if n := countRows(t, db, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", floorSchema(prefix)); n != 0 {
		t.Errorf("scratch schema %s still there after the run", floorSchema(prefix))
	}
}

// TestStartedSmoke starts notifyd processes from a fresh build: one
// instance beside the floor and the raw baseline in one invocation, then
// two instances in cluster mode. It checks the counts, not the timings, and
// that the run's database is dropped.
func TestStartedSmoke(t *testing.T) {
	db := benchDB(t)
	bin := buildNotifyd(t)
	// Every run's own database, checked once all ran: by name, as another
	// notifybench on the box may hold databases of its own meanwhile.
	var started []string
	runStarted := func(tb testing.TB, args ...string) summary {
		tb.Helper()
		sum := runSummary(tb, args...)
		for _, ts := range []*targetSummary{sum.Notifyd, sum.Fault} {
			if ts != nil && ts.Database != "" {
				started = append(started, ts.Database)
			}
		}
		return sum
	}
	common := []string{"-notifyd-bin", bin, "-db", db, "-users", "3", "-sockets", "6", "-rate", "50",
		"-duration", "1s", "-timeout", "2m", "-idle", "0s", "-check"}

	t.Run("one instance, the floor and raw in turn", func(t *testing.T) {
		sum := runStarted(t, append([]string{"-start", "1", "-floor", "-raw"}, common...)...)
		for _, ts := range []*targetSummary{sum.Notifyd, sum.Floor, sum.Raw} {
			checkCounts(t, ts, 6, 2)
		}
		if len(sum.Comparison) != 6 || sum.Notifyd.RSS == nil || sum.Config.Started != 1 || sum.Config.Cluster {
			t.Errorf("comparison %d rows (want 6), rss %+v (want measured), config %+v", len(sum.Comparison), sum.Notifyd.RSS, sum.Config)
		}
		if c := sum.Notifyd.CPU; c == nil || c.Error != "" || c.Requests != sum.Notifyd.Publish.Requests {
			t.Errorf("notifyd cpu %+v: want it measured over the %d requests", c, sum.Notifyd.Publish.Requests)
		}
		checkOrder(t, sum.Notifyd, sum.Floor, sum.Raw)
		// Each target's client in a process of its own (-isolate).
		pids := map[int]bool{os.Getpid(): true}
		for _, ts := range []*targetSummary{sum.Notifyd, sum.Floor, sum.Raw} {
			if pids[ts.ClientPID] {
				t.Errorf("%s: client pid %d, shared with another target or this test", ts.Target, ts.ClientPID)
			}
			pids[ts.ClientPID] = true
		}
		if !sum.Config.Isolated {
			t.Errorf("config %+v: want isolated", sum.Config)
		}
	})
	t.Run("the floor and raw first, in one client process", func(t *testing.T) {
		sum := runStarted(t, append([]string{"-start", "1", "-floor", "-raw", "-baselines-first", "-isolate=false"}, common...)...)
		for _, ts := range []*targetSummary{sum.Notifyd, sum.Floor, sum.Raw} {
			checkCounts(t, ts, 6, 2)
			if ts.ClientPID != os.Getpid() {
				t.Errorf("%s: client pid %d, want this process's %d", ts.Target, ts.ClientPID, os.Getpid())
			}
		}
		if !sum.Config.BaselinesFirst || sum.Config.Isolated {
			t.Errorf("config %+v: want baselines_first, not isolated", sum.Config)
		}
		checkOrder(t, sum.Floor, sum.Raw, sum.Notifyd)
	})
	t.Run("two instances, cluster mode", func(t *testing.T) {
		// Publishing to both, a user's changes commit on both instances, so
		// an instance can get a user's next change (its own) before the
		// other's doorbell: it holds it for cluster.gap_wait, then repairs
		// from the database, which sends an unread_count frame too. On a
		// loaded CI box a doorbell can take longer than the default 100 ms;
		// the long wait keeps this run on the path without a repair, so
		// any frame other than a notification is still a failure.
		sum := runStarted(t, append([]string{"-start", "2", "-notifyd-env", "NOTIFYD_CLUSTER_GAP_WAIT=10s"}, common...)...)
		checkCounts(t, sum.Notifyd, 6, 2)
		if sum.Notifyd.Instances != 2 || !sum.Config.Cluster || sum.Config.PublishTo != "all" {
			t.Errorf("instances %d, config %+v: want 2 in cluster mode, publishing to all", sum.Notifyd.Instances, sum.Config)
		}
	})
	t.Run("two instances given by -http and -ws, publishing to the first", func(t *testing.T) {
		o := options{start: 2, notifydBin: bin, dbURL: db, key: "smoke-" + randomHex(16)}
		is, err := startInstances(t.Context(), o, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		defer is.stop(io.Discard)
		started = append(started, is.dbName)
		eps := is.endpoints()
		sum := runSummary(t, "-key", o.key, "-http", eps[0].HTTP+","+eps[1].HTTP, "-ws", eps[0].WS+","+eps[1].WS,
			"-publish-to", "first", "-users", "3", "-sockets", "6", "-rate", "50", "-duration", "1s", "-timeout", "1m", "-check")
		checkCounts(t, sum.Notifyd, 6, 2)
		if sum.Notifyd.Instances != 2 || sum.Config.PublishTo != "first" {
			t.Errorf("instances %d, publish to %q: want 2 and first", sum.Notifyd.Instances, sum.Config.PublishTo)
		}
	})
	if len(started) != 4 {
		t.Errorf("databases of the started runs: %q, want 4", started)
	}
	for _, name := range started {
		if n := countRows(t, db, "SELECT count(*) FROM pg_database WHERE datname = $1", name); n != 0 {
			t.Errorf("database %s still there after its run: not dropped", name)
		}
	}
}

// checkOrder fails unless the targets' runs began in the order given.
func checkOrder(tb testing.TB, targets ...*targetSummary) {
	tb.Helper()
	for i := 1; i < len(targets); i++ {
		a, b := targets[i-1], targets[i]
		if !a.Started.Before(b.Started) {
			tb.Errorf("%s began at %v, not before %s at %v", a.Target, a.Started, b.Target, b.Started)
		}
	}
}
