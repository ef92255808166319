package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// profileTimeout bounds one download from the profiler, the CPU profile's
// own seconds aside.
const profileTimeout = 30 * time.Second

// profiler captures the profiles of one started notifyd during a run's
// publishing window (-profile DIR), from the profiler on its metrics
// listener (metrics.pprof). Every file is named prefix-what: the workload,
// then cpu.pb.gz, allocs-before.pb.gz... (profileFiles).
type profiler struct {
	dir    string
	prefix string // the workload, e.g. notifyd-b2b-u1000-s2000
	base   string // the metrics listener, http://127.0.0.1:port
	hc     *http.Client
	before []byte // /metrics when publishing began

	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// profileFiles are the files one run writes, after its prefix and a dash:
// heap allocations, block and mutex profiles before and after the window
// (for go tool pprof -base), a CPU profile of most of it, a goroutine
// profile and a 1 s execution trace from its middle, /metrics before and
// after, and the breakdown of the latency by stage (breakdown.go).
var profileFiles = []string{
	"allocs-before.pb.gz", "block-before.pb.gz", "mutex-before.pb.gz", "metrics-before.txt",
	"cpu.pb.gz", "goroutine.pb.gz", "trace.out",
	"allocs-after.pb.gz", "block-after.pb.gz", "mutex-after.pb.gz", "metrics-after.txt",
	"breakdown.txt",
}

// profilePrefix names a run's files by workload: back to back (b2b) or
// the rate, users and sockets.
func profilePrefix(target string, o options) string {
	pace := "b2b"
	if o.rate > 0 {
		pace = "r" + strconv.FormatFloat(o.rate, 'f', -1, 64)
	}
	return fmt.Sprintf("%s-%s-u%d-s%d", target, pace, o.users, o.sockets)
}

// cpuProfileSeconds is the CPU profile's length for a publishing window:
// most of it, at least one second.
func cpuProfileSeconds(window time.Duration) int {
	return max(1, int(window.Seconds()*0.8))
}

// startProfiling takes the "before" snapshots, then starts the CPU profile
// and, half-way through window, the goroutine profile and the trace.
func startProfiling(ctx context.Context, dir, prefix, base string, window time.Duration) (*profiler, error) {
	p := &profiler{dir: dir, prefix: prefix, base: base, hc: &http.Client{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if err := p.snapshot(ctx, "before"); err != nil {
		return nil, err
	}
	// /metrics last before the window and first after it: what writing
	// the cumulative profiles allocates is not counted per request (the
	// CPU profile, the goroutine profile and the trace are, a little).
	var err error
	if p.before, err = p.fetch(ctx, "/metrics", "metrics-before.txt", 0); err != nil {
		return nil, err
	}
	p.async(func() error {
		s := cpuProfileSeconds(window)
		_, err := p.fetch(ctx, "/debug/pprof/profile?seconds="+strconv.Itoa(s), "cpu.pb.gz", time.Duration(s)*time.Second)
		return err
	})
	p.async(func() error {
		sleep(ctx, window/2)
		if _, err := p.fetch(ctx, "/debug/pprof/goroutine", "goroutine.pb.gz", 0); err != nil {
			return err
		}
		_, err := p.fetch(ctx, "/debug/pprof/trace?seconds=1", "trace.out", time.Second)
		return err
	})
	return p, nil
}

// stop waits for the CPU profile and the trace, then takes the "after"
// snapshots and returns /metrics of both ends.
func (p *profiler) stop(ctx context.Context) (before, after []byte, err error) {
	p.wg.Wait()
	after, err = p.fetch(ctx, "/metrics", "metrics-after.txt", 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, err, p.snapshot(ctx, "after"))
	return p.before, after, errors.Join(p.errs...)
}

// snapshot saves the cumulative profiles (heap allocations, block, mutex)
// as prefix-NAME-when.pb.gz.
func (p *profiler) snapshot(ctx context.Context, when string) error {
	var errs []error
	for _, name := range []string{"allocs", "block", "mutex"} {
		_, err := p.fetch(ctx, "/debug/pprof/"+name, name+"-"+when+".pb.gz", 0)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// async runs f beside the run; stop waits for it and reports its error.
func (p *profiler) async(f func() error) {
	p.wg.Go(func() {
		if err := f(); err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, err)
			p.mu.Unlock()
		}
	})
}

// path is where file of this run goes.
func (p *profiler) path(file string) string {
	return filepath.Join(p.dir, p.prefix+"-"+file)
}

// fetch GETs the metrics listener's path into file and returns the body;
// takes is how long the server takes to answer (a CPU profile's seconds).
func (p *profiler) fetch(ctx context.Context, path, file string, takes time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, takes+profileTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	if err := os.WriteFile(p.path(file), body, 0o644); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return body, nil
}
