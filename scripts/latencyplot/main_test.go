package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestMedians(t *testing.T) {
	tests := []struct {
		name string
		runs []point
		want []point
	}{
		{
			name: "one run per rate, sorted by rate",
			runs: []point{{Rate: 500, Runs: 1, P50: 2, P95: 3, P99: 4}, {Rate: 250, Runs: 1, P50: 1, P95: 2, P99: 3}},
			want: []point{{Rate: 250, Runs: 1, P50: 1, P95: 2, P99: 3}, {Rate: 500, Runs: 1, P50: 2, P95: 3, P99: 4}},
		},
		{
			name: "three runs: the median of each percentile on its own",
			runs: []point{
				{Rate: 1000, Runs: 1, P50: 1, P95: 9, P99: 20},
				{Rate: 1000, Runs: 1, P50: 3, P95: 5, P99: 10},
				{Rate: 1000, Runs: 1, P50: 2, P95: 7, P99: 30},
			},
			want: []point{{Rate: 1000, Runs: 3, P50: 2, P95: 7, P99: 20}},
		},
		{
			name: "two runs: the mean of the middle two",
			runs: []point{{Rate: 1000, Runs: 1, P50: 1, P95: 2, P99: 4}, {Rate: 1000, Runs: 1, P50: 3, P95: 4, P99: 8}},
			want: []point{{Rate: 1000, Runs: 2, P50: 2, P95: 3, P99: 6}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := medians(tt.runs); !slices.Equal(got, tt.want) {
				t.Errorf("medians() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunWritesPNGAndCSV(t *testing.T) {
	dir := t.TempDir()
	var args []string
	for i, s := range []string{
		`{"config":{"rate":250,"sockets":20},"notifyd":{"delivery":{"latency":{"count":5,"p50_ms":0.5,"p95_ms":1,"p99_ms":2}}}}`,
		`{"config":{"rate":1000,"sockets":20},"notifyd":{"delivery":{"latency":{"count":5,"p50_ms":1,"p95_ms":3,"p99_ms":9}}}}`,
	} {
		name := filepath.Join(dir, string(rune('a'+i))+".json")
		writeFile(t, name, s)
		args = append(args, name)
	}
	pngOut, csvOut := filepath.Join(dir, "l.png"), filepath.Join(dir, "l.csv")
	if err := run(append([]string{"-out", pngOut, "-csv", csvOut}, args...), os.Stdout, os.Stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	b, err := os.ReadFile(pngOut)
	if err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Errorf("png: %d bytes, err %v", len(b), err)
	}
	want := "rate_per_s,sockets,runs,p50_ms,p95_ms,p99_ms\n250,20,1,0.500,1.000,2.000\n1000,20,1,1.000,3.000,9.000\n"
	if got, _ := os.ReadFile(csvOut); string(got) != want {
		t.Errorf("csv = %q, want %q", got, want)
	}
}

func TestRunRejectsSummaryWithoutLatency(t *testing.T) {
	name := filepath.Join(t.TempDir(), "raw-only.json")
	writeFile(t, name, `{"config":{"rate":0,"sockets":20}}`)
	if err := run([]string{"-out", filepath.Join(t.TempDir(), "l.png"), name}, os.Stdout, os.Stderr); err == nil {
		t.Error("run: no error for a summary without notifyd latency")
	}
}

func writeFile(tb testing.TB, name, content string) {
	tb.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}
