package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/client"
)

// After publishing stops, the tool waits for the frames still owed: until
// all arrived, or none arrived for drainStall, or -drain passed.
const drainStall = 2 * time.Second

// cleanupTimeout bounds closing the sockets, even after an interrupt.
const cleanupTimeout = 60 * time.Second

// bench runs the phases of one target after the other.
type bench struct {
	opts      options
	stderr    io.Writer
	fileLimit uint64
}

// runNotifyd creates the users and sessions through the publisher API of
// the first instance, then runs the load against notifyd: the instances of
// -http/-ws, or -start fresh ones, each user's sockets spread over them.
// With -fault it is one pass of the fault run: fault is the fault to
// inject, "" for the pass without one.
func (b *bench) runNotifyd(ctx context.Context, fault string) (*targetSummary, error) {
	o := b.opts
	eps, pid := o.endpoints(), o.serverPID
	probe := &cpuProbe{}
	if pid > 0 {
		probe.server = []int{pid}
	}
	var nats *natsServer
	if o.fault == faultNATSRestart {
		// Both passes on a server of their own: the one to restart must
		// not be a server other work shares.
		var err error
		if nats, err = startNATSServer(ctx, b.stderr); err != nil {
			return nil, err
		}
		defer nats.stop()
		o.notifydEnv = append(slices.Clip(o.notifydEnv), "NOTIFYD_CLUSTER_NATS_URL="+nats.url())
	}
	var fr *faultRun
	var profileAt string // the started instance's metrics listener, with -profile
	var database string  // the started instances' database
	if o.start > 0 {
		is, err := startInstances(ctx, o, b.stderr)
		if err != nil {
			return nil, err
		}
		defer is.stop(b.stderr)
		eps, database = is.endpoints(), is.dbName
		probe = &cpuProbe{dbURL: o.dbURL, pgDB: is.dbName}
		for _, in := range is.procs {
			probe.server = append(probe.server, in.cmd.Process.Pid)
		}
		if len(is.procs) == 1 {
			pid, profileAt = is.procs[0].cmd.Process.Pid, is.procs[0].metrics
		}
		if o.fault != "" {
			dbURL, err := withDatabase(o.dbURL, is.dbName)
			if err != nil {
				return nil, err
			}
			fr = &faultRun{mode: fault, at: o.faultAt, down: o.faultDown, is: is, nats: nats, dbURL: dbURL, stderr: b.stderr}
		}
	}
	clients := make([]*client.Client, len(eps))
	wsURLs := make([]string, len(eps))
	for i, ep := range eps {
		newClient := newAPIClient
		if fr != nil {
			newClient = newRetryingClient
		}
		c, err := newClient(ep.HTTP, o.key, o.opTimeout, o.publishers+setupConcurrency)
		if err != nil {
			return nil, err
		}
		clients[i], wsURLs[i] = c, ep.WS
	}
	var done atomic.Int64
	start := time.Now()
	stop := b.progress(ctx, "notifyd", func() string {
		return fmt.Sprintf("setup: %d/%d users with a session", done.Load(), o.users)
	})
	users, err := setupUsers(ctx, clients[0], o.prefix, o.users, &done)
	stop()
	if err != nil {
		return nil, err
	}
	ext := make(map[int64]string, len(users))
	for _, u := range users {
		ext[u.ID] = u.Ext
	}
	fmt.Fprintf(b.stderr, "[notifyd] %d users and sessions ready in %.1fs (prefix %q)\n", len(users), time.Since(start).Seconds(), o.prefix)
	if per := (o.sockets + o.users - 1) / o.users; per > 16 {
		fmt.Fprintf(b.stderr, "warning: %d sockets per user is past notifyd's default ws.max_connections_per_user (16): extra sockets get 4429\n", per)
	}
	if o.publishTo == "first" {
		clients = clients[:1]
	}
	procs := childProcesses(o.sockets, o.procs, b.fileLimit)
	name := "notifyd"
	if fault != "" {
		name += " " + fault
	}
	t, err := b.runTarget(ctx, name, newAPITarget(clients, o.keys, ext), wsURLs, users, procs, pid, probe, fr, profileAt)
	if t != nil {
		t.Instances, t.Database = len(eps), database
	}
	return t, err
}

// runTarget opens the sockets, samples RSS, publishes, waits for the
// frames owed and closes the sockets. After an interrupt it still closes
// them and returns what was measured.
// probe says whose CPU time to count while publishing. fr is a pass of a
// -fault run (nil otherwise): its sockets resume after a drop, its fault
// hits mid-publishing, and its sockets are checked against the database.
// profileAt is the metrics listener of the notifyd to profile (-profile),
// "" for none.
func (b *bench) runTarget(ctx context.Context, name string, t target, wsURLs []string, users []benchUser, procs, pid int, probe *cpuProbe, fr *faultRun, profileAt string) (*targetSummary, error) {
	o := b.opts
	specs := socketSpecs(users, o.sockets, wsURLs)
	var rss *rssSummary
	if pid > 0 {
		rss = &rssSummary{PID: pid, IdleSeconds: o.idle.Seconds(),
			Note: "sampled after the idle time; no GC forced (notifyd has no GC endpoint)"}
		rss.BeforeKiB, rss.Error = rssOrError(pid, "")
	}

	cfg := fleetConfig{wsURL: wsURLs[0], timeout: o.opTimeout, connectRate: o.connectRate, procs: procs, resume: fr != nil, stderr: b.stderr}
	if procs > 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this program for the children: %w", err)
		}
		cfg.exe = exe
		fmt.Fprintf(b.stderr, "[%s] %d sockets over %d child processes\n", name, len(specs), procs)
	}
	var cprof *connectProfiler
	if profileAt != "" {
		var err error
		if cprof, err = startConnectProfiling(ctx, o.profile, profilePrefix(name, o), profileAt); err != nil {
			return nil, err
		}
	}
	connectStart := probe.sample(ctx, nil) // the children start with the fleet
	f, err := startFleet(ctx, cfg, specs)
	if err != nil {
		if cprof != nil {
			err = errors.Join(err, cprof.finish(ctx))
		}
		return nil, err
	}
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	stop := b.progress(ctx, name, func() string {
		s := f.stats()
		return fmt.Sprintf("connecting: %d/%d connected, %d failed", s.Connected, len(specs), s.Failed)
	})
	for !f.stats().ConnectDone && ctx.Err() == nil {
		sleep(ctx, 50*time.Millisecond)
	}
	stop()
	conn := f.stats()
	fmt.Fprintf(b.stderr, "[%s] %d/%d sockets connected in %.2fs\n", name, conn.Connected, len(specs), conn.ConnectElapsed.Seconds())
	// Until the last socket is in, give or take the 50 ms poll above.
	connectCPU := summarizeCPU(connectStart, probe.sample(ctx, f.pids()), conn.Connected)
	fmt.Fprintf(b.stderr, "[%s] CPU per socket connected: server %.0f µs, postgres %.0f µs, client %.0f µs\n",
		name, connectCPU.Server, connectCPU.Postgres, connectCPU.Client)
	if cprof != nil {
		if err := cprof.finish(ctx); err != nil {
			fmt.Fprintf(b.stderr, "[%s] warning: connect profile: %v\n", name, err)
		}
	}
	if rss != nil && ctx.Err() == nil {
		sleep(ctx, o.idle)
		rss.IdleKiB, rss.Error = rssOrError(pid, rss.Error)
		if conn.Connected > 0 && rss.Error == "" {
			rss.PerSocketKiB = float64(rss.IdleKiB-rss.BeforeKiB) / float64(conn.Connected)
		}
	}

	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	p := newPublisher(t, ids, socketsPerUser(specs, conn.FailedSockets), o.batch, o.rate)
	publishStart := time.Now()
	stop = b.progress(ctx, name, publishLine(f, p))
	var elapsed time.Duration
	var publishEnd time.Time
	var cpu *cpuSummary
	var rows map[int64][]int64
	var rowsErr error
	var prof *profiler
	var profErr error
	var metricsBefore, metricsAfter []byte
	if ctx.Err() == nil {
		cpuStart := probe.sample(ctx, f.pids())
		if profileAt != "" {
			prof, profErr = startProfiling(ctx, o.profile, profilePrefix(name, o), profileAt, o.duration)
		}
		injected := make(chan struct{})
		go func() {
			defer close(injected)
			if fr != nil {
				fr.inject(ctx)
			}
		}()
		if o.fanout {
			elapsed = p.fanout(ctx, f.delivered, o.duration)
		} else {
			elapsed = p.run(ctx, o.publishers, o.duration)
		}
		<-injected // a restart may outlast publishing
		publishEnd = time.Now()
		if fr == nil {
			waitDelivered(ctx, f.delivered, p.expected.Load(), drainStall, o.drain)
		} else {
			rows, rowsErr = fr.drain(ctx, f.delivered, p, o.drain)
		}
		if fr == nil || fr.mode != faultKill {
			// A killed instance's CPU time is lost with it.
			cpu = summarizeCPU(cpuStart, probe.sample(ctx, f.pids()), p.requests.Load())
		}
		if prof != nil {
			metricsBefore, metricsAfter, profErr = prof.stop(ctx)
		}
	}
	stop()
	if rss != nil {
		rss.AfterRunKiB, rss.Error = rssOrError(pid, rss.Error)
	}
	final := f.close(cleanup)
	if final.Error != "" {
		fmt.Fprintf(b.stderr, "[%s] warning: %s\n", name, final.Error)
	}
	ts := newTargetSummary(name, len(specs), procs, final, p, o, publishStart, elapsed, publishEnd, rss)
	ts.CPU, ts.ConnectCPU = cpu, connectCPU
	if profileAt != "" {
		ts.Profile = writeBreakdown(o.profile, profilePrefix(name, o), metricsBefore, metricsAfter, ts, cpuProfileSeconds(o.duration), profErr)
	}
	if fr != nil {
		if rowsErr != nil {
			return ts, rowsErr
		}
		ts.Fault = fr.summarize(final, rows, f.tracks())
		d := &ts.Delivery
		d.Missing, d.Duplicates, d.OutOfOrder = ts.Fault.Check.Missing, ts.Fault.Check.Duplicated, ts.Fault.Check.OutOfOrder
	}
	return ts, nil
}

// publishLine is the progress line of the publish phase.
func publishLine(f *fleet, p *publisher) func() string {
	var lastCreated, lastDelivered int64
	return func() string {
		s := f.stats()
		created := p.created.Load()
		line := fmt.Sprintf("sockets %d/%d  published %d (%d/s)  delivered %d/%d (%d/s)  p99 %s  errors %d  closed %d",
			s.Connected-closedCount(s), s.Connected, created, created-lastCreated,
			s.Delivered, p.expected.Load(), s.Delivered-lastDelivered,
			ms(micros(s.Latency.quantile(0.99))), p.failed.Load(), closedCount(s))
		lastCreated, lastDelivered = created, s.Delivered
		return line
	}
}

func closedCount(s fleetStats) int64 {
	var n int64
	for _, v := range s.CloseCodes {
		n += v
	}
	return n
}

// rssOrError reads the RSS of pid, keeping the first error seen.
func rssOrError(pid int, prev string) (int64, string) {
	kib, err := readRSS(pid)
	if err != nil && prev == "" {
		return 0, err.Error()
	}
	return kib, prev
}

// progress prints line() to stderr every second until stop is called.
func (b *bench) progress(ctx context.Context, name string, line func() string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fmt.Fprintf(b.stderr, "[%s %4.0fs] %s\n", name, time.Since(start).Seconds(), line())
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
