package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
)

// comparisonRow is one line of the comparison table: what one target
// measured, or the ratio of two targets' figures (Name "a ÷ b"; a figure
// either side lacks is 0 there, a drain is not divided).
type comparisonRow struct {
	Name        string   `json:"name"`
	Accepted    float64  `json:"accepted_per_s"` // notifications accepted per second
	Frames      float64  `json:"frames_per_s"`
	DeliveryP50 float64  `json:"delivery_p50_ms"`
	DeliveryP99 float64  `json:"delivery_p99_ms"`
	RequestP50  float64  `json:"request_p50_ms"`
	RequestP99  float64  `json:"request_p99_ms"`
	Connect     float64  `json:"connect_s"`
	Drain       *float64 `json:"drain_s,omitempty"` // absent: not every frame owed arrived
}

// comparison lists the targets that ran, then notifyd ÷ floor, notifyd ÷
// raw and floor ÷ raw where both ran: the figures of one run as ratios to
// its baselines.
func comparison(targets ...*targetSummary) []comparisonRow {
	var rows []comparisonRow
	byName := map[string]comparisonRow{}
	for _, t := range targets {
		if t == nil {
			continue
		}
		r := comparisonRow{
			Name: t.Target, Accepted: t.Publish.NotificationsPerSec, Frames: t.Delivery.FramesPerSec,
			DeliveryP50: t.Delivery.Latency.P50Ms, DeliveryP99: t.Delivery.Latency.P99Ms,
			RequestP50: t.Publish.Request.P50Ms, RequestP99: t.Publish.Request.P99Ms,
			Connect: t.Sockets.ConnectSeconds,
		}
		if t.Delivery.Drained {
			d := t.Delivery.DrainSeconds
			r.Drain = &d
		}
		rows = append(rows, r)
		byName[t.Target] = r
	}
	for _, pair := range [][2]string{{"notifyd", "floor"}, {"notifyd", "raw"}, {"floor", "raw"}} {
		a, okA := byName[pair[0]]
		b, okB := byName[pair[1]]
		if !okA || !okB {
			continue
		}
		r := comparisonRow{
			Name: a.Name + " ÷ " + b.Name, Accepted: ratio(a.Accepted, b.Accepted), Frames: ratio(a.Frames, b.Frames),
			DeliveryP50: ratio(a.DeliveryP50, b.DeliveryP50), DeliveryP99: ratio(a.DeliveryP99, b.DeliveryP99),
			RequestP50: ratio(a.RequestP50, b.RequestP50), RequestP99: ratio(a.RequestP99, b.RequestP99),
			Connect: ratio(a.Connect, b.Connect),
		}
		rows = append(rows, r)
	}
	return rows
}

// ratio is a/b to three decimals, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return float64(int64(a/b*1000+0.5)) / 1000
}

// writeComparison prints the table in Markdown, ready for BENCHMARKS.md.
func writeComparison(w io.Writer, rows []comparisonRow) {
	fmt.Fprintln(w, "\n| target | accepted/s | frames/s | delivery p50 / p99 ms | request p50 / p99 ms | drain s | connect s |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		isRatio := strings.Contains(r.Name, "÷")
		f := func(format string, v float64) string {
			switch {
			case v == 0:
				return "—"
			case isRatio:
				return fmt.Sprintf("%.3f", v)
			}
			return fmt.Sprintf(format, v)
		}
		drain := "—"
		if r.Drain != nil {
			drain = fmt.Sprintf("%.2f", *r.Drain)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s / %s | %s / %s | %s | %s |\n", r.Name, f("%.1f", r.Accepted), f("%.1f", r.Frames),
			f("%.2f", r.DeliveryP50), f("%.2f", r.DeliveryP99), f("%.2f", r.RequestP50), f("%.2f", r.RequestP99), drain, f("%.2f", r.Connect))
	}
}

// writeCPU prints each target's CPU per 1,000 requests while publishing,
// in Markdown: what a request costs each process, which a loaded box does
// not hide as it hides the rates.
func writeCPU(w io.Writer, targets ...*targetSummary) {
	if !slices.ContainsFunc(targets, func(t *targetSummary) bool { return t != nil && t.CPU != nil }) {
		return
	}
	fmt.Fprintln(w, "\n| target | CPU ms per 1,000 requests: server | postgres backends | client | total | busy cores | (other postgres) |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, t := range targets {
		if t == nil || t.CPU == nil {
			continue
		}
		c := t.CPU
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f |\n", t.Target, c.Server, c.Postgres, c.Client, c.Total, c.Cores, c.PostgresOther)
	}
}

// loadAverage returns the 1, 5 and 15 minute load averages of
// /proc/loadavg, or why it could not.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// commandLine renders the command line for the report, shell-quoted, with
// the publisher key, the -notifyd-env values and the password of -db
// hidden.
func commandLine(args []string) string {
	out := []string{"notifybench"}
	pending := "" // a secret flag whose value is the next argument
	for _, a := range args {
		if pending != "" {
			out = append(out, shellQuote(redactValue(pending, a)))
			pending = ""
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && secretFlag(name) {
			if !hasVal {
				pending = name
			} else {
				a = a[:strings.Index(a, "=")+1] + redactValue(name, val)
			}
		}
		out = append(out, shellQuote(a))
	}
	return strings.Join(out, " ")
}

// secretFlag reports whether the value of flag name is redacted.
func secretFlag(name string) bool { return name == "key" || name == "notifyd-env" || name == "db" }

// redactValue hides what must not be printed of the value of flag name.
func redactValue(name, v string) string {
	switch name {
	case "key":
		return "REDACTED"
	case "notifyd-env":
		k, _, _ := strings.Cut(v, "=")
		return k + "=REDACTED"
	case "db":
		if u, err := url.Parse(v); err == nil {
			return u.Redacted()
		}
		return "REDACTED"
	}
	return v
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
