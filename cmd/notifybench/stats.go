package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear, like an HDR histogram with two significant
// digits: values below histLinear microseconds get a bucket each, and every
// larger power of two is split into histPerOctave buckets, so a percentile is
// off by at most 1/64 (1.6%). Values are capped at 2^40 µs (about 12 days).
const (
	histLinear    = 128
	histPerOctave = 64
	histMaxValue  = 1<<40 - 1
	histBuckets   = (40-7)*histPerOctave + histLinear
)

// bucketOf returns the bucket index of v microseconds.
func bucketOf(v uint64) int {
	if v > histMaxValue {
		v = histMaxValue
	}
	if v < histLinear {
		return int(v)
	}
	// shift keeps the top 7 bits of v: v>>shift is in [64, 128).
	shift := bits.Len64(v) - 7
	return shift*histPerOctave + int(v>>shift)
}

// bucketUpper returns the largest value that falls in bucket i.
func bucketUpper(i int) uint64 {
	if i < histLinear {
		return uint64(i)
	}
	shift := i/histPerOctave - 1
	m := uint64(i%histPerOctave + histPerOctave)
	return (m+1)<<shift - 1
}

// histogram records durations in microseconds. Every field is atomic, so
// thousands of socket readers record into one histogram without a lock.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	count  atomic.Uint64
	sum    atomic.Uint64
	max    atomic.Uint64
}

// record adds one duration; negative durations (clock steps) count as 0.
func (h *histogram) record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d / time.Microsecond)
	}
	h.counts[bucketOf(v)].Add(1)
	h.count.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// snapshot copies the counts. Concurrent records may land between loads,
// which only makes the copy a few values stale.
func (h *histogram) snapshot() histSnapshot {
	s := histSnapshot{Count: h.count.Load(), Sum: h.sum.Load(), Max: h.max.Load()}
	if s.Count == 0 {
		return s
	}
	s.Counts = make([]uint64, histBuckets)
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
	}
	return s
}

// histSnapshot is a plain copy of a histogram that can be merged with the
// snapshots of other processes and sent as JSON (sparse, see MarshalJSON).
type histSnapshot struct {
	Count  uint64
	Sum    uint64
	Max    uint64
	Counts []uint64 // dense, histBuckets long, or nil when Count is 0
}

// merge adds o into s.
func (s *histSnapshot) merge(o histSnapshot) {
	if o.Count == 0 {
		return
	}
	if s.Counts == nil {
		s.Counts = make([]uint64, histBuckets)
	}
	for i, c := range o.Counts {
		s.Counts[i] += c
	}
	s.Count += o.Count
	s.Sum += o.Sum
	s.Max = max(s.Max, o.Max)
}

// quantile returns the value at quantile q (0..1) in microseconds: the upper
// bound of the bucket holding the ceil(q·count)-th value, never above the
// exact maximum.
func (s histSnapshot) quantile(q float64) uint64 {
	if s.Count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.Count)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range s.Counts {
		seen += c
		if seen >= rank {
			return min(bucketUpper(i), s.Max)
		}
	}
	return s.Max
}

// sparseHist is the wire form of histSnapshot: only non-empty buckets, as
// [index, count] pairs, which keeps a child's progress lines small.
type sparseHist struct {
	Count   uint64      `json:"count"`
	Sum     uint64      `json:"sum"`
	Max     uint64      `json:"max"`
	Buckets [][2]uint64 `json:"buckets,omitempty"`
}

// MarshalJSON writes the sparse form.
func (s histSnapshot) MarshalJSON() ([]byte, error) {
	w := sparseHist{Count: s.Count, Sum: s.Sum, Max: s.Max}
	for i, c := range s.Counts {
		if c > 0 {
			w.Buckets = append(w.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the sparse form.
func (s *histSnapshot) UnmarshalJSON(b []byte) error {
	var w sparseHist
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = histSnapshot{Count: w.Count, Sum: w.Sum, Max: w.Max}
	if len(w.Buckets) == 0 {
		return nil
	}
	s.Counts = make([]uint64, histBuckets)
	for _, p := range w.Buckets {
		if p[0] >= histBuckets {
			return fmt.Errorf("histogram: bucket %d out of range", p[0])
		}
		s.Counts[p[0]] += p[1]
	}
	return nil
}

// latencySummary is what the summary reports of a histogram, in
// milliseconds.
type latencySummary struct {
	Count  uint64  `json:"count"`
	P50Ms  float64 `json:"p50_ms"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
	MeanMs float64 `json:"mean_ms"`
}

// summarize turns a snapshot into percentiles in milliseconds.
func (s histSnapshot) summarize() latencySummary {
	if s.Count == 0 {
		return latencySummary{}
	}
	return latencySummary{
		Count:  s.Count,
		P50Ms:  micros(s.quantile(0.50)),
		P95Ms:  micros(s.quantile(0.95)),
		P99Ms:  micros(s.quantile(0.99)),
		MaxMs:  micros(s.Max),
		MeanMs: micros(s.Sum / s.Count),
	}
}

// micros converts microseconds to milliseconds, rounded to the microsecond.
func micros(v uint64) float64 { return float64(v) / 1000 }

// String renders the percentiles on one line.
func (l latencySummary) String() string {
	if l.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (n=%d)",
		ms(l.P50Ms), ms(l.P95Ms), ms(l.P99Ms), ms(l.MaxMs), l.Count)
}

// ms formats milliseconds with a precision that suits their size.
func ms(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 1000:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.2fs", v/1000)
	}
}
