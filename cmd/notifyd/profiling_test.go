package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// get returns the status and body of GET url.
func get(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestProfiling: metrics.pprof serves the profiler on the metrics listener
// only, with block and mutex profiles and a CPU profile; by default it is
// not served at all.
func TestProfiling(t *testing.T) {
	off := start(t, testEnv(t))
	if code, _ := get(t, off.MetricsURL+"/debug/pprof/"); code != http.StatusNotFound {
		t.Fatalf("profiler served by default: %d", code)
	}
	if err := off.stop(t); err != nil {
		t.Fatal(err)
	}

	env := testEnv(t)
	env["NOTIFYD_METRICS_PPROF"] = "true"
	in := start(t, env)
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/mutex?debug=1":     "mutex",
		"/debug/pprof/block?debug=1":     "contention",
		"/debug/pprof/profile?seconds=1": "",
		"/metrics":                       "notifyd_",
	} {
		code, body := get(t, in.MetricsURL+path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s on the metrics listener: %d %.80q", path, code, body)
		}
	}
	if code, _ := get(t, in.HTTPURL+"/debug/pprof/"); code != http.StatusNotFound {
		t.Fatalf("profiler on the public API port: %d", code)
	}
}
