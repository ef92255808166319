package main

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	// Each value lands in a bucket whose range holds it, and buckets are
	// contiguous: the previous bucket ends just below.
	values := []uint64{0, 1, 63, 127, 128, 129, 191, 192, 255, 256, 1000, 4095, 4096, 123456, 1 << 30, histMaxValue}
	for v := uint64(0); v < 5000; v++ {
		values = append(values, v)
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of [0,%d)", v, i, histBuckets)
		}
		if up := bucketUpper(i); up < v {
			t.Fatalf("bucketUpper(%d) = %d < %d", i, up, v)
		}
		if i > 0 && bucketUpper(i-1) >= v {
			t.Fatalf("value %d also fits bucket %d (upper %d)", v, i-1, bucketUpper(i-1))
		}
	}
	if got := bucketOf(histMaxValue + 12345); got != histBuckets-1 {
		t.Errorf("values past the maximum go to bucket %d, want the last (%d)", got, histBuckets-1)
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   uint64 // µs
		relErr float64
	}{
		{"exact below 128µs", durations(1, 100, time.Microsecond), 0.5, 50, 0},
		{"p99 of 1..100µs", durations(1, 100, time.Microsecond), 0.99, 99, 0},
		{"max is exact", durations(1, 100, time.Microsecond), 1, 100, 0},
		{"uniform ms p50", durations(1, 10000, time.Microsecond), 0.50, 5000, 1.0 / 64},
		{"uniform ms p95", durations(1, 10000, time.Microsecond), 0.95, 9500, 1.0 / 64},
		{"uniform ms p99", durations(1, 10000, time.Microsecond), 0.99, 9900, 1.0 / 64},
		{"single value", []time.Duration{1500 * time.Microsecond}, 0.5, 1500, 0},
		{"negative counts as zero", []time.Duration{-time.Second}, 0.5, 0, 0},
		{"sub-microsecond rounds down", []time.Duration{900 * time.Nanosecond}, 0.5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, d := range tt.values {
				h.record(d)
			}
			got := h.snapshot().quantile(tt.q)
			if diff := math.Abs(float64(got) - float64(tt.want)); diff > tt.relErr*float64(tt.want) {
				t.Errorf("quantile(%v) = %d µs, want %d ± %.1f%%", tt.q, got, tt.want, tt.relErr*100)
			}
		})
	}
}

func durations(from, to int, unit time.Duration) []time.Duration {
	var out []time.Duration
	for v := from; v <= to; v++ {
		out = append(out, time.Duration(v)*unit)
	}
	return out
}

func TestSnapshotMergeAndJSON(t *testing.T) {
	var a, b histogram
	for _, d := range durations(1, 1000, time.Microsecond) {
		a.record(d)
	}
	for _, d := range durations(1001, 2000, time.Microsecond) {
		b.record(d)
	}
	// b travels as a child's report does.
	raw, err := json.Marshal(b.snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var wire histSnapshot
	if err := json.Unmarshal(raw, &wire); err != nil {
		t.Fatal(err)
	}
	merged := a.snapshot()
	merged.merge(wire)
	merged.merge(histSnapshot{}) // empty parts change nothing

	if merged.Count != 2000 || merged.Max != 2000 || merged.Sum != 2000*2001/2 {
		t.Fatalf("merged count %d max %d sum %d, want 2000, 2000, %d", merged.Count, merged.Max, merged.Sum, 2000*2001/2)
	}
	s := merged.summarize()
	if s.P50Ms < 0.98 || s.P50Ms > 1.02 {
		t.Errorf("p50 = %vms, want ≈1ms", s.P50Ms)
	}
	if s.MaxMs != 2 || s.MeanMs != 1 {
		t.Errorf("max %vms mean %vms, want 2 and 1 (mean rounds down to the µs)", s.MaxMs, s.MeanMs)
	}
	var empty histSnapshot
	if got := empty.summarize(); got != (latencySummary{}) {
		t.Errorf("empty summary = %+v, want zero", got)
	}
}

func TestSnapshotRejectsBadBucket(t *testing.T) {
	var s histSnapshot
	err := json.Unmarshal([]byte(`{"count":1,"sum":1,"max":1,"buckets":[[99999,1]]}`), &s)
	if err == nil {
		t.Fatal("a bucket index out of range was accepted")
	}
}
