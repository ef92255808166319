package main

import (
	"fmt"
	"io"
)

// writeFaults prints the passes of a -fault run side by side, in
// Markdown, ready for BENCHMARKS.md: what each socket got against the
// database, how the frames came, and how long recovering took.
func writeFaults(w io.Writer, targets ...*targetSummary) {
	fmt.Fprintln(w, "\n| pass | accepted/s | committed | frames owed / delivered | missing / duplicated / out of order | live / replayed / repaired | catch-ups / reconnects | delivery p50 / p99 ms | recovered p50 / p99 ms | fault → last recovered s | down s |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, t := range targets {
		if t == nil || t.Fault == nil {
			continue
		}
		f, d := t.Fault, t.Delivery
		last, down := "—", "—"
		if f.LastRecoveredSeconds != nil {
			last = fmt.Sprintf("%.3f", *f.LastRecoveredSeconds)
		}
		if f.DownSeconds > 0 {
			down = fmt.Sprintf("%.3f", f.DownSeconds)
		}
		fmt.Fprintf(w, "| %s | %.1f | %d | %d / %d | %d / %d / %d | %d / %d / %d | %d / %d | %.2f / %.2f | %.2f / %.2f | %s | %s |\n",
			f.Mode, t.Publish.NotificationsPerSec, f.Committed, d.Expected, d.Delivered,
			f.Check.Missing, f.Check.Duplicated, f.Check.OutOfOrder, f.Live, f.Replayed, f.Repaired, f.CatchUps, f.Reconnects,
			d.Latency.P50Ms, d.Latency.P99Ms, f.Recovered.P50Ms, f.Recovered.P99Ms, last, down)
	}
	for _, t := range targets {
		if t != nil && t.Fault != nil && t.Fault.Detail != "" {
			fmt.Fprintf(w, "%s: %s at %.1fs\n", t.Target, t.Fault.Detail, t.Fault.AtSeconds)
		}
	}
	fmt.Fprintln(w, "(recovered: replayed after a resume, or repaired by a cluster catch-up, told from live frames by their unread counts: see resume.go)")
}
