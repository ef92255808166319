package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// fleetStats is a cumulative snapshot of what a set of sockets measured.
// A child process streams it as JSON lines; the parent keeps the latest of
// each child and adds them up, so a lost line costs nothing.
type fleetStats struct {
	Attempted      int64            `json:"attempted"`
	Connected      int64            `json:"connected"`
	Failed         int64            `json:"failed"`
	ConnectDone    bool             `json:"connect_done"`
	ConnectElapsed time.Duration    `json:"connect_elapsed"`
	FailedSockets  []int            `json:"failed_sockets,omitempty"`
	ConnectErrors  map[string]int64 `json:"connect_errors,omitempty"`
	Connect        histSnapshot     `json:"connect"`
	Delivered      int64            `json:"delivered"`
	Duplicates     int64            `json:"duplicates"`
	OutOfOrder     int64            `json:"out_of_order"`
	Other          int64            `json:"other"`
	LastFrame      int64            `json:"last_frame"`
	Latency        histSnapshot     `json:"latency"`
	CloseCodes     map[string]int64 `json:"close_codes,omitempty"`
	Recovery       recoveryStats    `json:"recovery"` // -fault runs only
	Final          bool             `json:"final,omitempty"`
	Error          string           `json:"error,omitempty"`
}

// add merges o into s. Connecting is done when every part is done, and
// takes as long as the slowest part (they connect in parallel).
func (s *fleetStats) add(o fleetStats) {
	s.Attempted += o.Attempted
	s.Connected += o.Connected
	s.Failed += o.Failed
	s.ConnectDone = s.ConnectDone && o.ConnectDone
	s.ConnectElapsed = max(s.ConnectElapsed, o.ConnectElapsed)
	s.FailedSockets = append(s.FailedSockets, o.FailedSockets...)
	s.ConnectErrors = addCounts(s.ConnectErrors, o.ConnectErrors)
	s.Connect.merge(o.Connect)
	s.Delivered += o.Delivered
	s.Duplicates += o.Duplicates
	s.OutOfOrder += o.OutOfOrder
	s.Other += o.Other
	s.LastFrame = max(s.LastFrame, o.LastFrame)
	s.Latency.merge(o.Latency)
	s.CloseCodes = addCounts(s.CloseCodes, o.CloseCodes)
	s.Recovery.add(o.Recovery)
	if o.Error != "" {
		s.Error = joinErrors(s.Error, o.Error)
	}
}

func addCounts(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

func joinErrors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// fleet is every socket of one target: held by this process, or split over
// child processes when one process may not open that many files.
type fleet struct {
	local    *group
	children []*child
}

// fleetConfig says where and how to open the sockets.
type fleetConfig struct {
	wsURL       string
	timeout     time.Duration // per socket
	connectRate float64       // new sockets per second over the whole fleet, 0: unlimited
	procs       int           // child processes; 0: this process
	resume      bool          // sockets resume after a drop (-fault; this process only)
	exe         string        // this program, for the children
	stderr      io.Writer
}

// startFleet starts opening the sockets and returns at once; stats tells
// when connecting is done.
func startFleet(ctx context.Context, cfg fleetConfig, specs []socketSpec) (*fleet, error) {
	if cfg.procs == 0 {
		g := newGroup(cfg.wsURL, cfg.timeout, cfg.resume)
		go g.connect(ctx, specs, cfg.connectRate)
		return &fleet{local: g}, nil
	}
	if cfg.resume {
		return nil, errors.New("resuming sockets (-fault) are held by the tool's own process, not by child processes")
	}
	f := &fleet{}
	per := (len(specs) + cfg.procs - 1) / cfg.procs
	for lo := 0; lo < len(specs); lo += per {
		in := childInput{
			WS:          cfg.wsURL,
			Timeout:     cfg.timeout,
			ConnectRate: cfg.connectRate / float64(cfg.procs),
			Sockets:     specs[lo:min(lo+per, len(specs))],
		}
		c, err := startChild(ctx, cfg.exe, in, cfg.stderr)
		if err != nil {
			f.close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("start child %d: %w", len(f.children), err)
		}
		f.children = append(f.children, c)
	}
	return f, nil
}

// stats adds up the latest measurements of every part.
func (f *fleet) stats() fleetStats {
	s := fleetStats{ConnectDone: true}
	if f.local != nil {
		s.add(f.local.stats())
	}
	for _, c := range f.children {
		s.add(c.stats())
	}
	return s
}

// delivered is the number of frames received so far, cheaper than stats
// for the fan-out and drain loops that poll it.
func (f *fleet) delivered() int64 {
	var n int64
	if f.local != nil {
		n += f.local.delivered.Load()
	}
	for _, c := range f.children {
		n += c.delivered()
	}
	return n
}

// tracks are the resuming sockets of a -fault run (held by this process).
func (f *fleet) tracks() []*track {
	if f.local == nil {
		return nil
	}
	f.local.mu.Lock()
	defer f.local.mu.Unlock()
	return slices.Clone(f.local.tracks)
}

// pids are the child processes holding the sockets.
func (f *fleet) pids() []int {
	pids := make([]int, len(f.children))
	for i, c := range f.children {
		pids[i] = c.cmd.Process.Pid
	}
	return pids
}

// close closes every socket (children close theirs when their stdin ends)
// and returns the final measurements.
func (f *fleet) close(ctx context.Context) fleetStats {
	if f.local != nil {
		f.local.close(ctx)
	}
	for _, c := range f.children {
		c.closeInput()
	}
	for _, c := range f.children {
		c.wait(ctx)
	}
	return f.stats()
}
