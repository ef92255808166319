package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

// connectProfiler captures the profiles of one started notifyd while the
// sockets connect (-profile DIR): heap allocations before and after, and
// CPU profiles of one second each, back to back, until the last socket is
// in (net/http/pprof cannot end a CPU profile early, and the connect
// phase's length is not known in advance). Their files are prefix-connect-
// allocs-before.pb.gz, -connect-allocs-after.pb.gz and -connect-cpu-N.pb.gz;
// `go tool pprof -top DIR/PREFIX-connect-cpu-*` merges the seconds.
type connectProfiler struct {
	p    *profiler
	stop chan struct{} // closed when the sockets are in
	done chan struct{} // closed when the last CPU profile is written
	err  error         // the CPU profiles' first error; read after done
}

// startConnectProfiling takes the "before" snapshot and starts the CPU
// profiles.
func startConnectProfiling(ctx context.Context, dir, prefix, base string) (*connectProfiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	cp := &connectProfiler{
		p:    &profiler{dir: dir, prefix: prefix + "-connect", base: base, hc: &http.Client{}},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if _, err := cp.p.fetch(ctx, "/debug/pprof/allocs", "allocs-before.pb.gz", 0); err != nil {
		return nil, err
	}
	go cp.cpu(ctx)
	return cp, nil
}

// cpu writes one-second CPU profiles until stop is closed.
func (cp *connectProfiler) cpu(ctx context.Context) {
	defer close(cp.done)
	for n := 1; ctx.Err() == nil; n++ {
		if _, err := cp.p.fetch(ctx, "/debug/pprof/profile?seconds=1", "cpu-"+strconv.Itoa(n)+".pb.gz", time.Second); err != nil {
			cp.err = err
			return
		}
		select {
		case <-cp.stop:
			return
		default:
		}
	}
}

// finish waits for the CPU profile under way, so that the publishing
// window's profile can start, then takes the "after" snapshot.
func (cp *connectProfiler) finish(ctx context.Context) error {
	close(cp.stop)
	<-cp.done
	_, err := cp.p.fetch(ctx, "/debug/pprof/allocs", "allocs-after.pb.gz", 0)
	return errors.Join(cp.err, err)
}
