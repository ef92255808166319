package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// The targets a run can drive, as -only names them.
const (
	targetNotifyd = "notifyd"
	targetFloor   = "floor"
	targetRaw     = "raw"
)

// isolateExtraTime is what a target's client process gets past the time
// left to the whole run, to close its sockets and print its summary after
// the parent's own deadline has interrupted it.
const isolateExtraTime = cleanupTimeout + 5*time.Second

// targets lists the targets of o in the order they run.
func (o options) targets() []string {
	var notifyd, baselines []string
	if o.notifyd {
		notifyd = []string{targetNotifyd}
	}
	if o.floor {
		baselines = append(baselines, targetFloor)
	}
	if o.raw {
		baselines = append(baselines, targetRaw)
	}
	if o.baselinesFirst {
		return append(baselines, notifyd...)
	}
	return append(notifyd, baselines...)
}

// isolated reports whether each target's client runs in a process of its
// own: with -isolate, when more than one target runs. In one process, the
// targets that run later find the client's heap, goroutines and runtime
// grown by the ones before, which moved their ratios by as much as the
// gaps they measure.
func (o options) isolated() bool {
	return o.isolate && o.only == "" && len(o.targets()) > 1
}

// onlyTarget keeps the one target of -only, for a target's process.
func (o options) onlyTarget() options {
	o.notifyd, o.floor, o.raw = o.only == targetNotifyd, o.only == targetFloor, o.only == targetRaw
	o.baselinesFirst = false
	return o
}

// runIsolated runs target in a client process of its own: this program
// again, with the same command line, -only target and -json, and returns
// the summary it printed, which holds its errors. The child's progress goes
// to stderr. When ctx ends, the child gets an interrupt and the time to
// close its sockets and print what it measured, as the -child processes
// do (startChild).
func (b *bench) runIsolated(ctx context.Context, target string) (summary, error) {
	var sum summary
	exe, err := os.Executable()
	if err != nil {
		return sum, fmt.Errorf("find this program for the target's process: %w", err)
	}
	args := []string{"-only", target}
	args = append(args, b.opts.args...)
	// Later flags win: the same users' prefix for every target, a JSON
	// summary to read back, and the time left to the whole run.
	args = append(args, "-json", "-prefix", b.opts.prefix)
	if dl, ok := ctx.Deadline(); ok {
		args = append(args, "-timeout", time.Until(dl).Round(time.Millisecond).String())
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = isolateExtraTime
	cmd.Stderr = b.stderr
	var out bytes.Buffer
	cmd.Stdout = &out
	// A child that measured something and then failed exits 1 with its
	// errors in its summary: only a missing summary is an error here.
	runErr := cmd.Run()
	if err := json.NewDecoder(&out).Decode(&sum); err != nil {
		return sum, fmt.Errorf("the %s client process printed no summary: %w", target, cmp.Or(runErr, err))
	}
	return sum, nil
}

// runHere runs target in this process and records its summary in sum.
// notifyd's target is two passes with -fault: without, then with it.
func (b *bench) runHere(ctx context.Context, target string, sum *summary) []error {
	var errs []error
	run := func(name string, f func(context.Context) (*targetSummary, error)) *targetSummary {
		ts, err := timed(func() (*targetSummary, error) { return f(ctx) })
		if ts != nil {
			ts.ClientPID = os.Getpid()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return ts
	}
	switch target {
	case targetFloor:
		sum.Floor = run(targetFloor, b.runFloor)
	case targetRaw:
		sum.Raw = run(targetRaw, b.runRaw)
	default:
		sum.Notifyd = run(targetNotifyd, func(ctx context.Context) (*targetSummary, error) { return b.runNotifyd(ctx, "") })
		if f := b.opts.fault; f != "" && ctx.Err() == nil {
			// The same load again on fresh instances, with the fault.
			sum.Fault = run("notifyd "+f, func(ctx context.Context) (*targetSummary, error) { return b.runNotifyd(ctx, f) })
		}
	}
	return errs
}

// merge takes the targets that a target's process (-only) measured, and
// its errors.
func (s *summary) merge(child summary) []error {
	s.Notifyd, s.Fault = cmp.Or(child.Notifyd, s.Notifyd), cmp.Or(child.Fault, s.Fault)
	s.Floor, s.Raw = cmp.Or(child.Floor, s.Floor), cmp.Or(child.Raw, s.Raw)
	errs := make([]error, 0, len(child.Errors))
	for _, e := range child.Errors {
		errs = append(errs, errors.New(e))
	}
	return errs
}
