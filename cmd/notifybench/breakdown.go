package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// breakdown is where a publish's time and its process's resources went in
// one profiled run, from notifyd's /metrics before and after the window
// and the client's own latencies. The server's stages are histograms of
// notifyd: their quantiles are interpolated within buckets (as
// Prometheus's histogram_quantile does), so they are coarse; their means
// are exact and add up.
type breakdown struct {
	Requests float64 `json:"requests"` // HTTP requests notifyd served in the window
	// CPUProfileRequests is about how many of them the CPU profile saw:
	// the publishing rate times its seconds (scripts/profiles.sh divides
	// by it).
	CPUProfileRequests float64 `json:"cpu_profile_requests"`
	AllocsPerReq       float64 `json:"allocs_per_request"`
	BytesPerReq        float64 `json:"bytes_per_request"`
	CPUMsPer1k         float64 `json:"cpu_ms_per_1k"` // process_cpu_seconds_total
	GCCycles           float64 `json:"gc_cycles"`
	GCPauseMs          float64 `json:"gc_pause_ms"` // stop-the-world pauses, in all

	Request  latencySummary `json:"request"`  // client: the publish request's round trip
	Frame    latencySummary `json:"frame"`    // client: publish stamp to frame
	Wait     stageSummary   `json:"wait"`     // notifyd_batch_wait_seconds, per call
	Store    stageSummary   `json:"store"`    // notifyd_batch_store_seconds, per batch
	Delivery stageSummary   `json:"delivery"` // notifyd_delivery_latency_seconds, per frame
	Error    string         `json:"error,omitempty"`
}

// stageSummary is one server-side histogram's delta over the window, in
// milliseconds.
type stageSummary struct {
	Count  float64 `json:"count"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MeanMs float64 `json:"mean_ms"`
}

// newBreakdown computes the breakdown from /metrics before and after and
// the client's latencies.
func newBreakdown(before, after []byte, request, frame latencySummary, publishSeconds float64, cpuSeconds int) (*breakdown, error) {
	a, err := parseMetrics(before)
	if err != nil {
		return nil, err
	}
	b, err := parseMetrics(after)
	if err != nil {
		return nil, err
	}
	d := func(name string) float64 { return sumOf(b, name) - sumOf(a, name) }
	bd := &breakdown{Requests: d("notifyd_http_requests_total"), Request: request, Frame: frame,
		GCCycles: d("go_gc_duration_seconds_count"), GCPauseMs: d("go_gc_duration_seconds_sum") * 1000,
		Wait:  stageDelta(a, b, "notifyd_batch_wait_seconds"),
		Store: stageDelta(a, b, "notifyd_batch_store_seconds"), Delivery: stageDelta(a, b, "notifyd_delivery_latency_seconds")}
	if bd.Requests > 0 {
		bd.AllocsPerReq = round1(d("go_memstats_mallocs_total") / bd.Requests)
		bd.BytesPerReq = math.Round(d("go_memstats_alloc_bytes_total") / bd.Requests)
		bd.CPUMsPer1k = round1(d("process_cpu_seconds_total") * 1e6 / bd.Requests)
	}
	if publishSeconds > 0 {
		bd.CPUProfileRequests = math.Round(bd.Requests / publishSeconds * float64(min(float64(cpuSeconds), publishSeconds)))
	}
	return bd, nil
}

// parseMetrics reads Prometheus's text format.
func parseMetrics(text []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("breakdown: parse /metrics: %w", err)
	}
	return mf, nil
}

// sumOf adds the values of every series of a counter, gauge or untyped
// metric; name_count and name_sum read a summary's or histogram's count
// and sum. A metric not there is 0.
func sumOf(mf map[string]*dto.MetricFamily, name string) float64 {
	base, part := name, ""
	if f, ok := mf[name]; !ok || f == nil {
		for _, suffix := range []string{"_count", "_sum"} {
			if s, ok := strings.CutSuffix(name, suffix); ok {
				base, part = s, suffix
			}
		}
	}
	f := mf[base]
	if f == nil {
		return 0
	}
	var v float64
	for _, m := range f.GetMetric() {
		switch {
		case m.Counter != nil:
			v += m.GetCounter().GetValue()
		case m.Gauge != nil:
			v += m.GetGauge().GetValue()
		case m.Untyped != nil:
			v += m.GetUntyped().GetValue()
		case m.Summary != nil && part == "_count":
			v += float64(m.GetSummary().GetSampleCount())
		case m.Summary != nil && part == "_sum":
			v += m.GetSummary().GetSampleSum()
		case m.Histogram != nil && part == "_count":
			v += float64(m.GetHistogram().GetSampleCount())
		case m.Histogram != nil && part == "_sum":
			v += m.GetHistogram().GetSampleSum()
		}
	}
	return v
}

// bucket is a histogram's cumulative count at or below an upper bound.
type bucket struct {
	le    float64
	count float64
}

// stageDelta is the histogram name's observations between a and b.
func stageDelta(a, b map[string]*dto.MetricFamily, name string) stageSummary {
	hb, ha := histogramOf(b, name), histogramOf(a, name)
	if hb == nil {
		return stageSummary{}
	}
	var buckets []bucket
	for i, bk := range hb.GetBucket() {
		c := float64(bk.GetCumulativeCount())
		if ha != nil && i < len(ha.GetBucket()) {
			c -= float64(ha.GetBucket()[i].GetCumulativeCount())
		}
		buckets = append(buckets, bucket{le: bk.GetUpperBound(), count: c})
	}
	count, sum := float64(hb.GetSampleCount()), hb.GetSampleSum()
	if ha != nil {
		count -= float64(ha.GetSampleCount())
		sum -= ha.GetSampleSum()
	}
	s := stageSummary{Count: count}
	if count > 0 {
		s.P50Ms = round3(bucketQuantile(0.5, buckets, count) * 1000)
		s.P99Ms = round3(bucketQuantile(0.99, buckets, count) * 1000)
		s.MeanMs = round3(sum / count * 1000)
	}
	return s
}

// histogramOf is the one series of an unlabelled histogram, or nil.
func histogramOf(mf map[string]*dto.MetricFamily, name string) *dto.Histogram {
	f := mf[name]
	if f == nil || len(f.GetMetric()) == 0 {
		return nil
	}
	return f.GetMetric()[0].GetHistogram()
}

// bucketQuantile interpolates the q-quantile linearly within the bucket
// that holds it, as histogram_quantile does; past the last finite bound it
// answers that bound.
func bucketQuantile(q float64, buckets []bucket, count float64) float64 {
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	rank := q * count
	lower, below := 0.0, 0.0
	for _, b := range buckets {
		if b.count >= rank {
			if math.IsInf(b.le, 1) || b.count == below {
				return lower
			}
			return lower + (b.le-lower)*(rank-below)/(b.count-below)
		}
		lower, below = b.le, b.count
	}
	return lower
}

// msCell is a table cell of milliseconds; a difference of quantiles can
// come out negative, which means nothing: "< 0".
func msCell(v float64) string {
	if v < 0 {
		return "< 0"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// writeText writes the breakdown as the tables of BENCHMARKS.md,
// "Profiles and where the time goes".
func (bd *breakdown) writeText(w io.Writer, prefix string) {
	fmt.Fprintf(w, "%s: %.0f requests in the window\n", prefix, bd.Requests)
	fmt.Fprintf(w, "cpu profile: about %.0f requests\n", bd.CPUProfileRequests)
	fmt.Fprintf(w, "per request: %.1f allocations, %.0f bytes allocated; notifyd CPU %.1f ms per 1,000 requests; %.0f GC cycles, %.2f ms of GC pauses in all\n\n",
		bd.AllocsPerReq, bd.BytesPerReq, bd.CPUMsPer1k, bd.GCCycles, bd.GCPauseMs)
	fmt.Fprintln(w, "| stage (ms) | p50 | p99 | mean | n | from |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	row := func(name string, p50, p99, mean, n float64, from string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %s |\n", name, msCell(p50), msCell(p99), msCell(mean), n, from)
	}
	r, f := bd.Request, bd.Frame
	row("publish request, round trip", r.P50Ms, r.P99Ms, r.MeanMs, float64(r.Count), "client")
	row("— waiting for the batch's transaction", bd.Wait.P50Ms, bd.Wait.P99Ms, bd.Wait.MeanMs, bd.Wait.Count, "notifyd_batch_wait_seconds, per call")
	row("— the transaction (commit included)", bd.Store.P50Ms, bd.Store.P99Ms, bd.Store.MeanMs, bd.Store.Count, "notifyd_batch_store_seconds, per batch")
	row("— the rest: HTTP, gin, JSON, the answer, loopback (≈ round trip − wait − transaction)",
		r.P50Ms-bd.Wait.P50Ms-bd.Store.P50Ms, r.P99Ms-bd.Wait.P99Ms-bd.Store.P99Ms, r.MeanMs-bd.Wait.MeanMs-bd.Store.MeanMs, 0, "difference")
	row("publish → frame", f.P50Ms, f.P99Ms, f.MeanMs, float64(f.Count), "client")
	row("— commit → socket write: hub and writer", bd.Delivery.P50Ms, bd.Delivery.P99Ms, bd.Delivery.MeanMs, bd.Delivery.Count, "notifyd_delivery_latency_seconds, per frame")
	row("— before the commit: HTTP in, wait, transaction (≈ frame − hub and writer)",
		f.P50Ms-bd.Delivery.P50Ms, f.P99Ms-bd.Delivery.P99Ms, f.MeanMs-bd.Delivery.MeanMs, 0, "difference")
	fmt.Fprintln(w, "\nQuantiles of notifyd's histograms are interpolated within buckets and do not add up; the means do,")
	fmt.Fprintln(w, "except the transaction's, which is per batch: a call waits for its batch's whole transaction.")
	if bd.Error != "" {
		fmt.Fprintf(w, "error: %s\n", bd.Error)
	}
}

// writeBreakdown computes the breakdown of a profiled run and writes it to
// dir as prefix-breakdown.txt; what failed is in its Error, as it is for
// the capture (err).
func writeBreakdown(dir, prefix string, before, after []byte, ts *targetSummary, cpuSeconds int, err error) *breakdown {
	bd := &breakdown{}
	if err == nil {
		bd, err = newBreakdown(before, after, ts.Publish.Request, ts.Delivery.Latency, ts.Publish.Seconds, cpuSeconds)
		if bd == nil {
			bd = &breakdown{}
		}
	}
	if err != nil {
		bd.Error = err.Error()
	}
	var text bytes.Buffer
	bd.writeText(&text, prefix)
	if werr := os.WriteFile(filepath.Join(dir, prefix+"-breakdown.txt"), text.Bytes(), 0o644); werr != nil && bd.Error == "" {
		bd.Error = werr.Error()
	}
	return bd
}
