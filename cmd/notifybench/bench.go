package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// After publishing stops, the tool waits for the frames still owed: until
// all arrived, or none arrived for drainStall, or drainLimit passed.
const (
	drainStall = 2 * time.Second
	drainLimit = 15 * time.Second
)

// cleanupTimeout bounds closing the sockets, even after an interrupt.
const cleanupTimeout = 60 * time.Second

// bench runs the phases of one target after the other.
type bench struct {
	opts      options
	stderr    io.Writer
	fileLimit uint64
}

// runNotifyd creates the users and sessions through the publisher API,
// then runs the load against notifyd.
func (b *bench) runNotifyd(ctx context.Context) (*targetSummary, error) {
	o := b.opts
	api := &apiClient{
		base: strings.TrimRight(o.httpURL, "/"),
		key:  o.key,
		hc:   newHTTPClient(o.opTimeout, o.publishers+setupConcurrency),
	}
	var done atomic.Int64
	start := time.Now()
	stop := b.progress(ctx, "notifyd", func() string {
		return fmt.Sprintf("setup: %d/%d users with a session", done.Load(), o.users)
	})
	users, err := setupUsers(ctx, api, o.prefix, o.users, &done)
	stop()
	if err != nil {
		return nil, err
	}
	api.ext = make(map[int64]string, len(users))
	for _, u := range users {
		api.ext[u.ID] = u.Ext
	}
	fmt.Fprintf(b.stderr, "[notifyd] %d users and sessions ready in %.1fs (prefix %q)\n", len(users), time.Since(start).Seconds(), o.prefix)
	if per := (o.sockets + o.users - 1) / o.users; per > 16 {
		fmt.Fprintf(b.stderr, "warning: %d sockets per user is past notifyd's default ws.max_connections_per_user (16): extra sockets get 4429\n", per)
	}
	procs := childProcesses(o.sockets, o.procs, b.fileLimit, false)
	return b.runTarget(ctx, "notifyd", api, o.wsURL, users, procs, o.serverPID)
}

// runRaw starts the raw baseline server in this process and runs the same
// load against it. Its RSS is this process's, so it is measured only when
// child processes hold the client sockets (-procs, or past 15,000 sockets).
func (b *bench) runRaw(ctx context.Context) (*targetSummary, error) {
	o := b.opts
	srv, err := startRawServer(o.rate == 0 && !o.fanout)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	procs := childProcesses(o.sockets, o.procs, b.fileLimit, true)
	if procs == 0 && uint64(2*o.sockets+500) > b.fileLimit && b.fileLimit > 0 {
		return nil, fmt.Errorf("%d sockets need both ends in this process: past the %d open files allowed; use -procs", o.sockets, b.fileLimit)
	}
	pid := 0
	if procs > 0 {
		pid = os.Getpid()
	}
	return b.runTarget(ctx, "raw", srv, srv.url(), rawUsers(o.users), procs, pid)
}

// runTarget opens the sockets, samples RSS, publishes, waits for the
// frames owed and closes the sockets. After an interrupt it still closes
// them and returns what was measured.
func (b *bench) runTarget(ctx context.Context, name string, t target, wsURL string, users []benchUser, procs, pid int) (*targetSummary, error) {
	o := b.opts
	specs := socketSpecs(users, o.sockets)
	var rss *rssSummary
	if pid > 0 {
		rss = &rssSummary{PID: pid, IdleSeconds: o.idle.Seconds(),
			Note: "sampled after the idle time; no GC forced (notifyd has no GC endpoint)"}
		rss.BeforeKiB, rss.Error = rssOrError(pid, "")
	}

	cfg := fleetConfig{wsURL: wsURL, timeout: o.opTimeout, connectRate: o.connectRate, procs: procs, stderr: b.stderr}
	if procs > 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this program for the children: %w", err)
		}
		cfg.exe = exe
		fmt.Fprintf(b.stderr, "[%s] %d sockets over %d child processes\n", name, len(specs), procs)
	}
	f, err := startFleet(ctx, cfg, specs)
	if err != nil {
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
	if ctx.Err() == nil {
		if o.fanout {
			elapsed = p.fanout(ctx, f.delivered, o.duration)
		} else {
			elapsed = p.run(ctx, o.publishers, o.duration)
		}
		waitDelivered(ctx, f.delivered, p.expected.Load(), drainStall, drainLimit)
	}
	stop()
	if rss != nil {
		rss.AfterRunKiB, rss.Error = rssOrError(pid, rss.Error)
	}
	final := f.close(cleanup)
	if final.Error != "" {
		fmt.Fprintf(b.stderr, "[%s] warning: %s\n", name, final.Error)
	}
	return newTargetSummary(name, len(specs), procs, final, p, o, publishStart, elapsed, rss), nil
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
