// Command notifybench is notifyd's load tool. It talks to a running notifyd
// only through its public HTTP API and websocket protocol, so it measures
// any deployment: it creates users and sessions with the publisher API,
// opens authenticated sockets, publishes timestamped notifications at a
// given rate and reports connect times, publish→frame latency, throughput,
// server RSS per socket, errors and close codes. With -raw it also runs a
// bare coder/websocket fan-out behind a bare net/http publish handler, and
// with -floor the same handler inserting and committing each notification
// with pgx: each in a process of its own, driven by the same client over
// HTTP, as the baselines to compare against.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad command line: main exits with 2.
type usageError struct{ err error }

// Error returns the message of the bad flag.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the parse or validation error.
func (e usageError) Unwrap() error { return e.err }

// run is the whole program. stdin is read only in -child mode; the summary
// goes to stdout, progress and warnings to stderr. It never calls os.Exit.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	stderr = &lockedWriter{w: stderr} // progress lines and children write concurrently
	opts, err := parseFlags(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	fileLimit, err := raiseFileLimit()
	if err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
	if opts.child {
		return runChild(ctx, stdin, stdout)
	}
	if opts.serve {
		return runServe(ctx, stdin, stdout)
	}

	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	b := &bench{opts: opts, stderr: stderr, fileLimit: fileLimit}
	sum := summary{Config: opts.summary(), Command: commandLine(opts.args), Load: loadSummary{Start: loadAverage()}}
	var errs []error
	for _, target := range opts.targets() {
		if ctx.Err() != nil {
			break
		}
		if opts.isolated() {
			child, err := b.runIsolated(ctx, target)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", target, err))
				continue
			}
			errs = append(errs, sum.merge(child)...)
			continue
		}
		errs = append(errs, b.runHere(ctx, target, &sum)...)
	}
	sum.Load.End = loadAverage()
	sum.finish()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		sum.Interrupted = "timeout"
		errs = append(errs, fmt.Errorf("stopped by -timeout %s", opts.timeout))
	case ctx.Err() != nil:
		sum.Interrupted = "signal"
		errs = append(errs, errors.New("interrupted"))
	}
	if (opts.check || opts.fault != "") && opts.only == "" {
		// A -fault run is a check: what it measures is that nothing is
		// lost. A target's process (-only) leaves it to its parent.
		errs = append(errs, sum.correctness()...)
	}
	for _, err := range errs {
		sum.Errors = append(sum.Errors, err.Error())
	}
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
	} else {
		sum.writeText(stdout)
	}
	return errors.Join(errs...)
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p while holding the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// timed runs one target and stamps its summary with when the run began.
func timed(run func() (*targetSummary, error)) (*targetSummary, error) {
	began := time.Now()
	ts, err := run()
	if ts != nil {
		ts.Started = began
	}
	return ts, err
}
