package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fakeTarget accepts every notification.
type fakeTarget struct{}

func (fakeTarget) publishOne(_ context.Context, _ int64, _ string) (int, error) { return 1, nil }
func (fakeTarget) publishMany(_ context.Context, ids []int64, _ string) (int, error) {
	return len(ids), nil
}

func TestSummaryJSON(t *testing.T) {
	start := time.Now()
	p := newPublisher(fakeTarget{}, []int64{1, 2}, map[int64]int{1: 2, 2: 2}, 0, 0)
	for range 10 {
		p.once(t.Context())
	}
	var lat histogram
	for _, d := range durations(1, 40, time.Millisecond) {
		lat.record(d)
	}
	st := fleetStats{
		Attempted: 4, Connected: 4, ConnectDone: true, ConnectElapsed: 500 * time.Millisecond,
		Delivered: 18, Duplicates: 1, LastFrame: start.Add(2 * time.Second).UnixNano(),
		Latency: lat.snapshot(), CloseCodes: map[string]int64{"4008": 1},
	}
	opts := options{users: 2, sockets: 4, rate: 5, publishers: 1, duration: 2 * time.Second}
	end := start.Add(2 * time.Second)
	notifyd := newTargetSummary("notifyd", 4, 0, st, p, opts, start, 2*time.Second, end, nil)
	raw := newTargetSummary("raw", 4, 0, st, p, opts, start, 2*time.Second, end, nil)
	raw.Delivery.FramesPerSec = notifyd.Delivery.FramesPerSec * 2
	sum := summary{Config: opts.summary(), Notifyd: notifyd, Raw: raw}
	sum.finish()

	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Config struct {
			Users   int `json:"users"`
			Sockets int `json:"sockets"`
		} `json:"config"`
		Notifyd struct {
			Sockets struct {
				Connected int     `json:"connected"`
				PerSecond float64 `json:"per_s"`
			} `json:"sockets"`
			Publish struct {
				Mode          string `json:"mode"`
				Requests      int64  `json:"requests"`
				Notifications int64  `json:"notifications"`
			} `json:"publish"`
			Delivery struct {
				Expected     int64            `json:"expected"`
				Delivered    int64            `json:"delivered"`
				Missing      int64            `json:"missing"`
				Duplicates   int64            `json:"duplicates"`
				FramesPerSec float64          `json:"frames_per_s"`
				CloseCodes   map[string]int64 `json:"close_codes"`
				Latency      latencySummary   `json:"latency"`
			} `json:"delivery"`
		} `json:"notifyd"`
		Ratio *float64 `json:"ratio"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	n := got.Notifyd
	checks := []struct {
		name      string
		got, want any
	}{
		{"config users", got.Config.Users, 2},
		{"config sockets", got.Config.Sockets, 4},
		{"connected", n.Sockets.Connected, 4},
		{"sockets per second", n.Sockets.PerSecond, 8.0},
		{"mode", n.Publish.Mode, "single"},
		{"requests", n.Publish.Requests, int64(10)},
		{"notifications", n.Publish.Notifications, int64(10)},
		{"expected: 10 notifications × 2 sockets", n.Delivery.Expected, int64(20)},
		{"delivered", n.Delivery.Delivered, int64(18)},
		{"missing", n.Delivery.Missing, int64(2)},
		{"duplicates", n.Delivery.Duplicates, int64(1)},
		{"frames per second over the 2 s window", n.Delivery.FramesPerSec, 9.0},
		{"close 4008", n.Delivery.CloseCodes["4008"], int64(1)},
		{"latency count", n.Delivery.Latency.Count, uint64(40)},
		{"latency max", n.Delivery.Latency.MaxMs, 40.0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.Ratio == nil || *got.Ratio != 0.5 {
		t.Errorf("ratio = %v, want 0.5", got.Ratio)
	}
	if notifyd.Delivery.Drained {
		t.Errorf("drained with 2 of 20 frames missing")
	}
	if len(sum.Comparison) != 3 || sum.Comparison[2].Name != "notifyd ÷ raw" || sum.Comparison[2].Frames != 0.5 ||
		sum.Comparison[2].Accepted != 1 || sum.Comparison[0].Drain != nil {
		t.Errorf("comparison = %+v, want notifyd, raw, then notifyd ÷ raw with frames 0.5, accepted 1, no drain", sum.Comparison)
	}
	if p99 := n.Delivery.Latency.P99Ms; p99 < 39 || p99 > 40 {
		t.Errorf("latency p99 = %vms, want 40 (rank ceil(0.99·40) = 40)", p99)
	}

	var text bytes.Buffer
	sum.writeText(&text)
	for _, want := range []string{"notifyd", "bare fan-out", "18/20 frames", "4008: 1", "ratio", "| notifyd ÷ raw | 1.000 | 0.500 |", "load average"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, text.String())
		}
	}
}

func TestSummaryWithoutRawHasNoRatio(t *testing.T) {
	sum := summary{Notifyd: &targetSummary{Target: "notifyd"}}
	sum.finish()
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"ratio"`)) || bytes.Contains(b, []byte(`"raw"`)) {
		t.Errorf("summary without a raw run carries raw fields: %s", b)
	}
}

// TestDrain: the drain is the time from the end of publishing to the last
// frame, once every frame owed arrived; a frame before the end counts 0.
func TestDrain(t *testing.T) {
	start := time.Now()
	p := newPublisher(fakeTarget{}, []int64{1}, map[int64]int{1: 1}, 0, 0)
	p.once(t.Context())
	end := start.Add(time.Second)
	for _, tc := range []struct {
		last time.Time
		want float64
	}{{end.Add(300 * time.Millisecond), 0.3}, {end.Add(-time.Millisecond), 0}} {
		st := fleetStats{Connected: 1, Delivered: 1, LastFrame: tc.last.UnixNano()}
		d := newTargetSummary("notifyd", 1, 0, st, p, options{}, start, time.Second, end, nil).Delivery
		if !d.Drained || d.DrainSeconds != tc.want {
			t.Errorf("last frame at end%+v: drained %v in %vs, want true in %vs", tc.last.Sub(end), d.Drained, d.DrainSeconds, tc.want)
		}
	}
}

func TestCommandLineRedacts(t *testing.T) {
	got := commandLine([]string{"-key", "sekrit", "-db=postgres://u:pw@h/db", "-notifyd-env", "NOTIFYD_CLUSTER_SECRET=abc",
		"--key=sekrit2", "-rate", "0", "-prefix", "a b"})
	want := `notifybench -key REDACTED -db=postgres://u:xxxxx@h/db -notifyd-env NOTIFYD_CLUSTER_SECRET=REDACTED --key=REDACTED -rate 0 -prefix 'a b'`
	if got != want {
		t.Errorf("commandLine =\n%s\nwant\n%s", got, want)
	}
}
