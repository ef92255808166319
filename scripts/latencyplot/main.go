// Command latencyplot draws notifybench's publish→frame latency percentiles
// (p50, p95, p99) against the publish rate, from the -json summaries of
// several runs, as a small PNG. Standard library only, so it builds with
// nothing beyond the module.
//
//	latencyplot -out docs/latency.png -csv docs/latency.csv run-250.json run-500.json ...
//
// config.rate on the x axis (log scale) and notifyd.delivery.latency on the
// y axis (log scale, milliseconds). Runs of the same rate make one point: the
// median of each percentile over them (the table's "median of 3").
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "latencyplot:", err)
		os.Exit(1)
	}
}

// point is one run's rate and latency percentiles in milliseconds.
type point struct {
	Rate    float64
	Sockets int
	Runs    int // runs whose median this is
	P50     float64
	P95     float64
	P99     float64
}

// run parses args, reads the summaries and writes the PNG (and the CSV).
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("latencyplot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "latency.png", "PNG file to write")
	csvOut := fs.String("csv", "", "also write the plotted points as CSV to this file")
	title := fs.String("title", "", "title line (lower case, digits and . , / - ( ) : only); default from the runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no summary files given")
	}
	points := make([]point, 0, fs.NArg())
	for _, name := range fs.Args() {
		p, err := readPoint(name)
		if err != nil {
			return err
		}
		points = append(points, p)
	}
	points = medians(points)
	if *title == "" {
		*title = fmt.Sprintf("publish to frame latency, %d sockets, postgres", points[0].Sockets)
	}
	img := draw(points, *title)
	if err := writePNG(*out, img); err != nil {
		return err
	}
	if *csvOut != "" {
		if err := os.WriteFile(*csvOut, []byte(csv(points)), 0o644); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	fmt.Fprintf(stdout, "%d points -> %s\n", len(points), *out)
	return nil
}

// summary is the part of notifybench's -json output read here.
type summary struct {
	Config struct {
		Rate    float64 `json:"rate"`
		Sockets int     `json:"sockets"`
	} `json:"config"`
	Notifyd *struct {
		Delivery struct {
			Latency struct {
				Count uint64  `json:"count"`
				P50   float64 `json:"p50_ms"`
				P95   float64 `json:"p95_ms"`
				P99   float64 `json:"p99_ms"`
			} `json:"latency"`
		} `json:"delivery"`
	} `json:"notifyd"`
}

// readPoint reads one notifybench -json summary.
func readPoint(name string) (point, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return point{}, fmt.Errorf("read summary: %w", err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		return point{}, fmt.Errorf("%s: %w", name, err)
	}
	if s.Notifyd == nil || s.Config.Rate <= 0 || s.Notifyd.Delivery.Latency.Count == 0 {
		return point{}, fmt.Errorf("%s: no notifyd latency at a fixed rate", name)
	}
	l := s.Notifyd.Delivery.Latency
	return point{Rate: s.Config.Rate, Sockets: s.Config.Sockets, Runs: 1, P50: l.P50, P95: l.P95, P99: l.P99}, nil
}

// csv renders the points, one line per run.
func csv(points []point) string {
	var b strings.Builder
	b.WriteString("rate_per_s,sockets,runs,p50_ms,p95_ms,p99_ms\n")
	for _, p := range points {
		fmt.Fprintf(&b, "%g,%d,%d,%.3f,%.3f,%.3f\n", p.Rate, p.Sockets, p.Runs, p.P50, p.P95, p.P99)
	}
	return b.String()
}

// medians merges the runs of each rate into one point, the median of each
// percentile, sorted by rate.
func medians(runs []point) []point {
	byRate := map[float64][]point{}
	for _, p := range runs {
		byRate[p.Rate] = append(byRate[p.Rate], p)
	}
	rates := slices.Sorted(maps.Keys(byRate))
	out := make([]point, 0, len(rates))
	for _, r := range rates {
		ps := byRate[r]
		m := point{Rate: r, Sockets: ps[0].Sockets, Runs: len(ps)}
		m.P50 = median(ps, func(p point) float64 { return p.P50 })
		m.P95 = median(ps, func(p point) float64 { return p.P95 })
		m.P99 = median(ps, func(p point) float64 { return p.P99 })
		out = append(out, m)
	}
	return out
}

// median of value over ps; the mean of the middle two for an even count.
func median(ps []point, value func(point) float64) float64 {
	vs := make([]float64, len(ps))
	for i, p := range ps {
		vs[i] = value(p)
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}
