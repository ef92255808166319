package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/cluster"
)

// The faults -fault injects into a two-instance run, mid-publishing.
const (
	faultKill        = "kill"        // SIGKILL the last started instance, restart it on its ports
	faultPGTerm      = "pgterm"      // pg_terminate_backend of every listener (postgres broker)
	faultNATSRestart = "natsrestart" // kill the run's own nats-server, start it again (nats broker)
)

// Publishers of a -fault run retry a create on a connection error or a
// 503, with its Idempotency-Key, as an app's backend using the Go client
// does: up to faultRetries times, faultBackoffMin doubling up to
// faultBackoffMax apart (about 25 s in all, longer than a restart takes).
const (
	faultRetries    = 30
	faultBackoffMin = 100 * time.Millisecond
	faultBackoffMax = time.Second
)

// listenersBackTimeout bounds the wait for the listeners to reconnect
// after pgterm.
const listenersBackTimeout = 60 * time.Second

// faultRun is one pass of a -fault invocation over started instances:
// the faulted pass, or with mode "" the pass without a fault whose figures
// are printed beside it. Both resume their sockets and check them against
// the database.
type faultRun struct {
	mode   string        // "" or one of the fault constants
	at     time.Duration // after the first publish
	down   time.Duration // kill, natsrestart: time down before the restart
	is     *instances
	nats   *natsServer // natsrestart only
	dbURL  string      // the run's database
	stderr io.Writer

	// Set by inject, read after it returned.
	injected time.Time // when the fault hit
	back     time.Time // the instance, server or listeners back
	detail   string
	err      error
}

// inject waits until at after the first publish, then injects the fault.
func (f *faultRun) inject(ctx context.Context) {
	if f.mode == "" {
		return
	}
	sleep(ctx, f.at)
	if ctx.Err() != nil {
		return
	}
	switch f.mode {
	case faultKill:
		f.err = f.kill(ctx)
	case faultPGTerm:
		f.err = f.terminateListeners(ctx)
	case faultNATSRestart:
		f.err = f.restartNATS(ctx)
	}
	if f.err != nil {
		fmt.Fprintf(f.stderr, "[fault] %s: %v\n", f.mode, f.err)
		return
	}
	fmt.Fprintf(f.stderr, "[fault] %s: %s; back after %.2fs\n", f.mode, f.detail, f.back.Sub(f.injected).Seconds())
}

// kill ends the last instance with SIGKILL (no shutdown, no close frames,
// no broker goodbye), waits down, and starts it again on the same ports
// so that its sockets and publishers find it again.
func (f *faultRun) kill(ctx context.Context) error {
	last := len(f.is.procs) - 1
	old := f.is.procs[last]
	if err := old.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill pid %d: %w", old.cmd.Process.Pid, err)
	}
	<-old.exited
	f.injected = time.Now()
	sleep(ctx, f.down)
	in, err := launchInstance(ctx, f.is.bin, f.is.env, old.ep, f.stderr)
	if err != nil {
		return fmt.Errorf("restart on %s: %w", old.ep.HTTP, err)
	}
	f.back = time.Now()
	f.is.procs[last] = in
	f.detail = fmt.Sprintf("killed instance %d (pid %d), restarted as pid %d", last+1, old.cmd.Process.Pid, in.cmd.Process.Pid)
	return nil
}

// terminateListeners ends every cluster listener's backend on the run's
// database, as a failover or an administrator would, and waits until as
// many are connected again.
func (f *faultRun) terminateListeners(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		return fmt.Errorf("connect to the run's database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	const where = ` FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid))`+where, cluster.ApplicationName).Scan(&n); err != nil {
		return fmt.Errorf("pg_terminate_backend: %w", err)
	}
	f.injected = time.Now()
	if n == 0 {
		return fmt.Errorf("no %s connection on the run's database (is the broker postgres?)", cluster.ApplicationName)
	}
	f.detail = fmt.Sprintf("terminated %d listener connection(s)", n)
	wait, cancel := context.WithTimeout(ctx, listenersBackTimeout)
	defer cancel()
	for {
		var now int
		if err := conn.QueryRow(wait, `SELECT count(*)`+where, cluster.ApplicationName).Scan(&now); err != nil {
			return fmt.Errorf("listeners not back after %s: %w", listenersBackTimeout, err)
		}
		if now >= n {
			f.back = time.Now()
			return nil
		}
		sleep(wait, 20*time.Millisecond)
	}
}

// restartNATS kills the run's nats-server, waits down and starts it again
// on the same port.
func (f *faultRun) restartNATS(ctx context.Context) error {
	f.nats.stop()
	f.injected = time.Now()
	sleep(ctx, f.down)
	if err := f.nats.start(ctx); err != nil {
		return err
	}
	f.back = time.Now()
	f.detail = "killed nats-server on " + f.nats.addr + " and started it again"
	return nil
}

// newRetryingClient is newAPIClient for a -fault run: it retries creates
// (with their Idempotency-Key) through a fault, as an app's backend would.
func newRetryingClient(base, key string, timeout time.Duration, idle int) (*client.Client, error) {
	return client.New(base, key, client.WithHTTPClient(newHTTPClient(timeout, idle)),
		client.WithRetries(faultRetries), client.WithBackoff(faultBackoffMin, faultBackoffMax))
}

// framesOwed is the frames the sockets are owed for rows: each user's
// notifications times its connected sockets.
func framesOwed(rows map[int64][]int64, perUser map[int64]int) int64 {
	var n int64
	for user, ids := range rows {
		n += int64(len(ids) * perUser[user])
	}
	return n
}

// drain reads what the run committed and waits until the sockets got the
// frames it owes, for at most limit. What is owed is what committed: a
// create whose answer the fault lost may have committed all the same. A
// socket redialling after a fault may be silent for longer than a stall,
// so only limit ends the wait early.
func (f *faultRun) drain(ctx context.Context, delivered func() int64, p *publisher, limit time.Duration) (map[int64][]int64, error) {
	rows, err := committedRows(ctx, f.dbURL)
	if err != nil {
		return nil, err
	}
	p.expected.Store(framesOwed(rows, p.perUser))
	waitDelivered(ctx, delivered, p.expected.Load(), limit, limit)
	return rows, nil
}

// faultSummary is what a pass of a -fault run found.
type faultSummary struct {
	Mode        string  `json:"mode"`             // "none" for the pass without a fault
	AtSeconds   float64 `json:"at_s,omitempty"`   // after the first publish
	DownSeconds float64 `json:"down_s,omitempty"` // the fault to the instance, server or listeners back
	Detail      string  `json:"detail,omitempty"`
	Error       string  `json:"error,omitempty"`
	Committed   int64   `json:"committed"` // notifications in the database (accepted, or committed with a lost answer)
	// Check is every socket against its user's rows: must find nothing.
	Check socketCheck `json:"check"`
	// Live, Replayed and Repaired split the frames delivered by how they
	// came (resume.go says how recovered ones are told from live ones).
	Live          int64          `json:"live"`
	Replayed      int64          `json:"replayed"`
	Repaired      int64          `json:"repaired"`
	CatchUps      int64          `json:"catch_ups"` // unread_count frames: the ends of cluster catch-ups
	Reconnects    int64          `json:"reconnects"`
	FailedRedials int64          `json:"failed_redials"`
	Recovered     latencySummary `json:"recovered_latency"` // publish → receipt of the recovered frames
	// LastRecoveredSeconds is the fault to the last recovered frame.
	LastRecoveredSeconds *float64 `json:"last_recovered_s,omitempty"`
}

// summarize checks the sockets against the database rows and assembles
// the pass's summary.
func (f *faultRun) summarize(s fleetStats, rows map[int64][]int64, tracks []*track) *faultSummary {
	fs := &faultSummary{Mode: f.mode, Detail: f.detail}
	if f.mode == "" {
		fs.Mode = "none"
	} else {
		fs.AtSeconds = f.at.Seconds()
	}
	if f.err != nil {
		fs.Error = f.err.Error()
	}
	if !f.back.IsZero() {
		fs.DownSeconds = roundMs(f.back.Sub(f.injected))
	}
	for _, ids := range rows {
		fs.Committed += int64(len(ids))
	}
	for _, t := range tracks {
		fs.Check.add(t.ids, rows[t.spec.User])
	}
	r := s.Recovery
	fs.Replayed, fs.Repaired, fs.CatchUps = r.Replayed, r.Repaired, r.CatchUps
	fs.Reconnects, fs.FailedRedials = r.Reconnects, r.Redials
	fs.Live = s.Delivered - s.OutOfOrder - r.Replayed - r.Repaired
	fs.Recovered = r.Latency.summarize()
	if r.LastRecovered > 0 && !f.injected.IsZero() {
		d := roundMs(time.Unix(0, r.LastRecovered).Sub(f.injected))
		fs.LastRecoveredSeconds = &d
	}
	return fs
}

// roundMs is d in seconds, to the millisecond.
func roundMs(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }
