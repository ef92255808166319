package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileSmoke starts notifyd with -profile and checks that every file
// of the run is there and readable: the profiles gzipped and not empty,
// the trace Go's, /metrics parseable, and the breakdown counting what the
// run did (its requests, each call's wait, each frame). No timings.
func TestProfileSmoke(t *testing.T) {
	db := benchDB(t)
	bin := buildNotifyd(t)
	dir := filepath.Join(t.TempDir(), "profiles")
	sum := runSummary(t, "-start", "1", "-notifyd-bin", bin, "-db", db, "-profile", dir, "-floor",
		"-users", "3", "-sockets", "6", "-rate", "50", "-duration", "2s", "-timeout", "2m", "-idle", "0s", "-check")
	checkCounts(t, sum.Notifyd, 6, 2)
	prefix := "notifyd-r50-u3-s6"
	for _, file := range profileFiles {
		b, err := os.ReadFile(filepath.Join(dir, prefix+"-"+file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		switch {
		case strings.HasSuffix(file, ".pb.gz"):
			checkGzipProfile(t, file, b)
		case file == "trace.out":
			if !bytes.HasPrefix(b, []byte("go 1.")) || len(b) < 1000 {
				t.Errorf("trace.out: %d bytes starting %q: want a Go execution trace", len(b), b[:min(len(b), 16)])
			}
		case strings.HasPrefix(file, "metrics-"):
			if mf, err := parseMetrics(b); err != nil || mf["notifyd_batch_wait_seconds"] == nil {
				t.Errorf("%s: %v; want notifyd's metrics with notifyd_batch_wait_seconds", file, err)
			}
		case file == "breakdown.txt":
			if !bytes.Contains(b, []byte("| publish request, round trip |")) {
				t.Errorf("breakdown.txt has no stage table:\n%s", b)
			}
		}
	}
	// The connect phase's: allocations before and after, and at least one
	// second of CPU.
	for _, file := range []string{"connect-allocs-before.pb.gz", "connect-cpu-1.pb.gz", "connect-allocs-after.pb.gz"} {
		b, err := os.ReadFile(filepath.Join(dir, prefix+"-"+file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		checkGzipProfile(t, file, b)
	}
	if c := sum.Notifyd.ConnectCPU; c == nil || c.Requests != 6 {
		t.Errorf("connect_cpu %+v: want the CPU of 6 sockets' connect", c)
	}
	bd, p := sum.Notifyd.Profile, sum.Notifyd.Publish
	if bd == nil || bd.Error != "" {
		t.Fatalf("profile %+v: want a breakdown without error", bd)
	}
	if bd.Requests != float64(p.Requests) || bd.Wait.Count != float64(p.Requests) || bd.Delivery.Count != float64(sum.Notifyd.Delivery.Delivered) {
		t.Errorf("breakdown counts %v requests, %v waits, %v frames; the run made %d requests and got %d frames",
			bd.Requests, bd.Wait.Count, bd.Delivery.Count, p.Requests, sum.Notifyd.Delivery.Delivered)
	}
	if bd.AllocsPerReq <= 0 || bd.Store.Count <= 0 || bd.CPUProfileRequests <= 0 {
		t.Errorf("breakdown %+v: want allocations, batches and the CPU profile's requests counted", bd)
	}
	// The baseline is not profiled.
	if sum.Floor == nil || sum.Floor.Profile != nil {
		t.Errorf("floor %+v: want it run, without a profile", sum.Floor)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "floor-*")); len(files) > 0 {
		t.Errorf("files of the floor in -profile: %q", files)
	}
}

// checkGzipProfile checks that b, the contents of file, is gzipped and not
// empty.
func checkGzipProfile(t *testing.T, file string, b []byte) {
	t.Helper()
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: not gzip: %v", file, err)
		return
	}
	if raw, err := io.ReadAll(z); err != nil || len(raw) == 0 {
		t.Errorf("%s: %d bytes unzipped, %v: want a profile", file, len(raw), err)
	}
}

// TestBucketQuantile interpolates within the bucket holding the rank, as
// Prometheus's histogram_quantile does.
func TestBucketQuantile(t *testing.T) {
	buckets := []bucket{{le: 0.001, count: 50}, {le: 0.01, count: 90}, {le: 0.1, count: 100}}
	tests := []struct {
		q, want float64
	}{
		{0.5, 0.001},   // the 50th of 100 is the first bucket's last
		{0.25, 0.0005}, // half-way through the first bucket
		{0.7, 0.0055},  // half-way through the second
		{0.99, 0.091},  // nine tenths through the third
	}
	for _, tt := range tests {
		if got := bucketQuantile(tt.q, buckets, 100); got < tt.want-1e-9 || got > tt.want+1e-9 {
			t.Errorf("q%v = %v, want %v", tt.q, got, tt.want)
		}
	}
}
