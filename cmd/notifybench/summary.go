package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// summary is the report printed at the end (as JSON with -json).
type summary struct {
	Command string         `json:"command"` // the command line, secrets redacted
	Config  configSummary  `json:"config"`
	Load    loadSummary    `json:"load"`
	Notifyd *targetSummary `json:"notifyd,omitempty"`
	// Fault is the pass with the fault of -fault; Notifyd is then the
	// same run without it.
	Fault *targetSummary `json:"fault,omitempty"`
	Floor *targetSummary `json:"floor,omitempty"`
	Raw   *targetSummary `json:"raw,omitempty"`
	// Ratio is notifyd's delivered frames/s divided by the raw baseline's,
	// present when both ran.
	Ratio *float64 `json:"ratio,omitempty"`
	// Comparison is every target's figures, then their ratios (see
	// comparison), when more than one target ran.
	Comparison  []comparisonRow `json:"comparison,omitempty"`
	Interrupted string          `json:"interrupted,omitempty"` // "signal" or "timeout"
	Errors      []string        `json:"errors,omitempty"`
}

// loadSummary is /proc/loadavg's 1, 5 and 15 minute averages when the
// run started and when it ended: the box's load beside every figure.
type loadSummary struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// targetSummary is what one target (notifyd or raw) measured.
type targetSummary struct {
	Target    string          `json:"target"`
	Started   time.Time       `json:"started"`             // when its run began, in the order of -baselines-first
	ClientPID int             `json:"client_pid"`          // the process that drove it: one per target with -isolate
	Instances int             `json:"instances,omitempty"` // notifyd instances, when more than one
	Database  string          `json:"database,omitempty"`  // the started instances' database, dropped after the run
	Sockets   socketsSummary  `json:"sockets"`
	RSS       *rssSummary     `json:"rss,omitempty"`
	Publish   publishSummary  `json:"publish"`
	Delivery  deliverySummary `json:"delivery"`
	CPU       *cpuSummary     `json:"cpu,omitempty"` // while publishing
	// ConnectCPU is the CPU time from the first dial until the last socket
	// was in; its "per 1k" figures are per 1,000 sockets connected, i.e.
	// µs per socket.
	ConnectCPU *cpuSummary   `json:"connect_cpu,omitempty"`
	Profile    *breakdown    `json:"profile,omitempty"` // -profile
	Fault      *faultSummary `json:"fault,omitempty"`   // a pass of -fault
	Error      string        `json:"error,omitempty"`   // a child process failed
}

type socketsSummary struct {
	Requested      int              `json:"requested"`
	Connected      int64            `json:"connected"`
	Failed         int64            `json:"failed"`
	Processes      int              `json:"client_processes"` // child processes holding them; 0: the tool's own
	ConnectSeconds float64          `json:"connect_s"`        // first dial to last hello
	PerSecond      float64          `json:"per_s"`
	Connect        latencySummary   `json:"connect"` // per socket: dial + auth + hello
	Errors         map[string]int64 `json:"errors,omitempty"`
}

type rssSummary struct {
	PID          int     `json:"pid"`
	BeforeKiB    int64   `json:"before_kib"`
	IdleKiB      int64   `json:"idle_kib"`
	AfterRunKiB  int64   `json:"after_run_kib"`
	PerSocketKiB float64 `json:"per_socket_kib"` // (idle - before) / connected
	IdleSeconds  float64 `json:"idle_s"`
	Note         string  `json:"note"`
	Error        string  `json:"error,omitempty"`
}

type publishSummary struct {
	Mode                string           `json:"mode"` // single, batch or fanout
	Seconds             float64          `json:"seconds"`
	Requests            int64            `json:"requests"`
	Failed              int64            `json:"failed"`
	RequestsPerSec      float64          `json:"requests_per_s"`
	Notifications       int64            `json:"notifications"` // accepted (notifyd: persisted, 201s)
	NotificationsPerSec float64          `json:"notifications_per_s"`
	Rounds              int64            `json:"rounds,omitempty"` // fan-out rounds
	Request             latencySummary   `json:"request"`          // request round trip
	Errors              map[string]int64 `json:"errors,omitempty"`
}

type deliverySummary struct {
	Expected     int64            `json:"expected"` // frames owed to the connected sockets
	Delivered    int64            `json:"delivered"`
	Missing      int64            `json:"missing"`
	Duplicates   int64            `json:"duplicates"`   // same id twice in a row on a socket
	OutOfOrder   int64            `json:"out_of_order"` // id below the socket's highest
	Other        int64            `json:"other_frames"` // frames that are not notifications
	Seconds      float64          `json:"seconds"`      // first publish to last frame
	FramesPerSec float64          `json:"frames_per_s"`
	Latency      latencySummary   `json:"latency"` // publish stamp to frame receipt
	CloseCodes   map[string]int64 `json:"close_codes,omitempty"`
	// Drained: every frame owed arrived, DrainSeconds after publishing
	// stopped (0 when the last one came before).
	Drained      bool    `json:"drained"`
	DrainSeconds float64 `json:"drain_s"`
}

// newTargetSummary assembles the report of one target.
func newTargetSummary(name string, requested, procs int, s fleetStats, p *publisher, o options,
	publishStart time.Time, elapsed time.Duration, publishEnd time.Time, rss *rssSummary) *targetSummary {
	t := &targetSummary{Target: name, RSS: rss, Error: s.Error}
	t.Sockets = socketsSummary{
		Requested:      requested,
		Connected:      s.Connected,
		Failed:         s.Failed,
		Processes:      procs,
		ConnectSeconds: s.ConnectElapsed.Seconds(),
		PerSecond:      perSecond(s.Connected, s.ConnectElapsed),
		Connect:        s.Connect.summarize(),
		Errors:         s.ConnectErrors,
	}
	mode := "single"
	switch {
	case o.fanout:
		mode = "fanout"
	case o.batch > 0:
		mode = "batch"
	}
	created := p.created.Load()
	t.Publish = publishSummary{
		Mode:                mode,
		Seconds:             elapsed.Seconds(),
		Requests:            p.requests.Load(),
		Failed:              p.failed.Load(),
		RequestsPerSec:      perSecond(p.requests.Load(), elapsed),
		Notifications:       created,
		NotificationsPerSec: perSecond(created, elapsed),
		Rounds:              p.rounds.Load(),
		Request:             p.reqLat.snapshot().summarize(),
		Errors:              p.errorCounts(),
	}
	window := elapsed
	if s.LastFrame > 0 {
		window = time.Unix(0, s.LastFrame).Sub(publishStart)
	}
	expected := p.expected.Load()
	t.Delivery = deliverySummary{
		Expected:     expected,
		Delivered:    s.Delivered,
		Missing:      max(expected-s.Delivered, 0),
		Duplicates:   s.Duplicates,
		OutOfOrder:   s.OutOfOrder,
		Other:        s.Other,
		Seconds:      window.Seconds(),
		FramesPerSec: perSecond(s.Delivered, window),
		Latency:      s.Latency.summarize(),
		CloseCodes:   s.CloseCodes,
		Drained:      !publishEnd.IsZero() && s.Delivered >= expected,
	}
	if t.Delivery.Drained && s.LastFrame > 0 {
		d := max(time.Unix(0, s.LastFrame).Sub(publishEnd), 0)
		t.Delivery.DrainSeconds = math.Round(d.Seconds()*1000) / 1000
	}
	return t
}

// perSecond is n/d, 0 for an empty interval, rounded to 0.1.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10
}

// finish computes the comparison and the ratio of delivered frames/s,
// notifyd to raw.
func (s *summary) finish() {
	if rows := comparison(s.Notifyd, s.Fault, s.Floor, s.Raw); len(rows) > 1 {
		s.Comparison = rows
	}
	if s.Notifyd == nil || s.Raw == nil || s.Raw.Delivery.FramesPerSec == 0 {
		return
	}
	r := math.Round(s.Notifyd.Delivery.FramesPerSec/s.Raw.Delivery.FramesPerSec*1000) / 1000
	s.Ratio = &r
}

// writeText prints the human summary.
func (s summary) writeText(w io.Writer) {
	c := s.Config
	// -fanout sets both the kind of request and the pace.
	mode, rate := "fan-out rounds to every user", "rounds back to back"
	if !c.Fanout {
		mode, rate = "one request per notification", "as fast as possible"
		if c.Batch > 0 {
			mode = fmt.Sprintf("bulk requests of %d users", c.Batch)
		}
		if c.Rate > 0 {
			rate = fmt.Sprintf("%g/s", c.Rate)
		}
	}
	keys := "no Idempotency-Key"
	if c.IdempotencyKeys {
		keys = "an Idempotency-Key on every create"
	}
	fmt.Fprintf(w, "notifybench: %d users, %d sockets, %s for %gs, %d publishers, %s, %s\n",
		c.Users, c.Sockets, rate, c.Duration, c.Publishers, mode, keys)
	if c.Isolated {
		fmt.Fprintln(w, "each target's client ran in a process of its own")
	}
	if c.Started > 0 {
		fmt.Fprintf(w, "notifyd: %d started instance(s), cluster %v, broker %q, publishing to %s\n",
			c.Started, c.Cluster, c.Broker, cmp.Or(c.PublishTo, "it"))
	}
	for _, t := range []*targetSummary{s.Notifyd, s.Fault, s.Floor, s.Raw} {
		if t != nil {
			t.writeText(w)
		}
	}
	if s.Fault != nil {
		writeFaults(w, s.Notifyd, s.Fault)
	}
	if s.Ratio != nil {
		fmt.Fprintf(w, "\nratio (delivered frames/s, notifyd ÷ raw): %.3f\n", *s.Ratio)
	}
	if len(s.Comparison) > 0 {
		writeComparison(w, s.Comparison)
		writeCPU(w, s.Notifyd, s.Fault, s.Floor, s.Raw)
	}
	fmt.Fprintf(w, "\nload average (1, 5, 15 min): %s at start, %s at end\ncommand: %s\n", s.Load.Start, s.Load.End, s.Command)
	if s.Interrupted != "" {
		fmt.Fprintf(w, "\nINTERRUPTED (%s): figures cover the run until then\n", s.Interrupted)
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

func (t *targetSummary) writeText(w io.Writer) {
	name := t.Target
	switch {
	case name == "raw":
		name = "bare fan-out (bare net/http publish handler + coder/websocket, own process, persists nothing)"
	case name == "floor":
		name = "persisted floor (the bare fan-out's handler + one pgx insert and commit, own process)"
	case t.Instances > 1:
		name = fmt.Sprintf("%s (%d instances)", name, t.Instances)
	}
	fmt.Fprintf(w, "\n%s\n", name)
	so := t.Sockets
	where := "this process"
	if so.Processes > 0 {
		where = fmt.Sprintf("%d child processes", so.Processes)
	}
	fmt.Fprintf(w, "  sockets     %d/%d connected in %.2fs (%.0f/s, held by %s); per socket %s\n",
		so.Connected, so.Requested, so.ConnectSeconds, so.PerSecond, where, so.Connect)
	if len(so.Errors) > 0 {
		fmt.Fprintf(w, "              connect errors: %s\n", counts(so.Errors))
	}
	if r := t.RSS; r != nil {
		if r.Error != "" {
			fmt.Fprintf(w, "  rss         pid %d: %s\n", r.PID, r.Error)
		} else {
			fmt.Fprintf(w, "  rss         pid %d: %d KiB before, %d KiB after %.0fs idle, %d KiB after the run: %.1f KiB per socket (no GC forced)\n",
				r.PID, r.BeforeKiB, r.IdleKiB, r.IdleSeconds, r.AfterRunKiB, r.PerSocketKiB)
		}
	}
	pu := t.Publish
	fmt.Fprintf(w, "  publish     %s, %.1fs: %d requests (%.1f/s), %d notifications accepted (%.1f/s), %d failed\n",
		pu.Mode, pu.Seconds, pu.Requests, pu.RequestsPerSec, pu.Notifications, pu.NotificationsPerSec, pu.Failed)
	if pu.Rounds > 0 {
		fmt.Fprintf(w, "              %d fan-out rounds\n", pu.Rounds)
	}
	fmt.Fprintf(w, "  request     %s\n", pu.Request)
	if len(pu.Errors) > 0 {
		fmt.Fprintf(w, "              errors: %s\n", counts(pu.Errors))
	}
	d := t.Delivery
	fmt.Fprintf(w, "  delivery    %d/%d frames in %.1fs (%.1f frames/s); missing %d, duplicates %d, out of order %d, other frames %d\n",
		d.Delivered, d.Expected, d.Seconds, d.FramesPerSec, d.Missing, d.Duplicates, d.OutOfOrder, d.Other)
	fmt.Fprintf(w, "  latency     %s (publish → frame)\n", d.Latency)
	if d.Drained {
		fmt.Fprintf(w, "  drain       every frame owed arrived %.3fs after publishing stopped\n", d.DrainSeconds)
	} else if d.Expected > 0 {
		fmt.Fprintf(w, "  drain       not complete: %d frames missing when the tool stopped waiting (-drain)\n", d.Missing)
	}
	if len(d.CloseCodes) > 0 {
		fmt.Fprintf(w, "  closed      by the server: %s\n", counts(d.CloseCodes))
	}
	if c := t.CPU; c != nil {
		fmt.Fprintf(w, "  cpu         ms per 1,000 requests over %.1fs: server %.1f, postgres backends %.1f (other postgres %.1f), client %.1f; total %.1f = %.2f busy cores\n",
			c.Seconds, c.Server, c.Postgres, c.PostgresOther, c.Client, c.Total, c.Cores)
		if c.Error != "" {
			fmt.Fprintf(w, "              cpu: %s\n", c.Error)
		}
	}
	if pr := t.Profile; pr != nil {
		fmt.Fprintf(w, "  profile     %.1f allocations and %.0f bytes per request; waiting for the batch p50 %s p99 %s, transaction p50 %s p99 %s, commit → socket p50 %s p99 %s (the files and -breakdown.txt in -profile)\n",
			pr.AllocsPerReq, pr.BytesPerReq, ms(pr.Wait.P50Ms), ms(pr.Wait.P99Ms), ms(pr.Store.P50Ms), ms(pr.Store.P99Ms), ms(pr.Delivery.P50Ms), ms(pr.Delivery.P99Ms))
		if pr.Error != "" {
			fmt.Fprintf(w, "              profile: %s\n", pr.Error)
		}
	}
	if t.Error != "" {
		fmt.Fprintf(w, "  error       %s\n", t.Error)
	}
}

// counts renders a count map as "k: n, k: n" in key order.
func counts(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
