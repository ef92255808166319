package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRawSmoke runs the whole tool against the in-process raw baseline and
// checks that the counts add up. It asserts nothing about timings.
func TestRawSmoke(t *testing.T) {
	tests := []struct {
		name string
		args []string
		mode string
	}{
		{"one request per notification", []string{"-rate", "50"}, "single"},
		{"bulk requests", []string{"-rate", "60", "-batch", "2"}, "batch"},
		{"as fast as possible", []string{"-rate", "0", "-publishers", "2"}, "single"},
		{"fan-out rounds", []string{"-fanout"}, "fanout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-notifyd=false", "-raw", "-users", "3", "-sockets", "6",
				"-duration", "1s", "-timeout", "1m", "-json"}, tt.args...)
			var out, stderr bytes.Buffer
			err := run(t.Context(), args, func(string) string { return "" }, strings.NewReader(""), &out, &stderr)
			if err != nil {
				t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
			}
			var sum summary
			if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
				t.Fatalf("summary is not JSON: %v\n%s", err, out.String())
			}
			if sum.Notifyd != nil || sum.Raw == nil || sum.Ratio != nil {
				t.Fatalf("want only a raw section, got %s", out.String())
			}
			r := sum.Raw
			so, p, d := r.Sockets, r.Publish, r.Delivery
			checks := []struct {
				name      string
				got, want any
			}{
				{"sockets connected", so.Connected, int64(6)},
				{"sockets failed", so.Failed, int64(0)},
				{"mode", p.Mode, tt.mode},
				{"failed requests", p.Failed, int64(0)},
				{"some notifications published", p.Notifications > 0, true},
				// 6 sockets over 3 users: every notification owes 2 frames.
				{"frames expected", d.Expected, 2 * p.Notifications},
				{"frames delivered", d.Delivered, d.Expected},
				{"missing", d.Missing, int64(0)},
				{"duplicates", d.Duplicates, int64(0)},
				{"out of order", d.OutOfOrder, int64(0)},
				{"other frames", d.Other, int64(0)},
				{"a latency per frame", d.Latency.Count, uint64(d.Delivered)},
				{"closed by the server", len(d.CloseCodes), 0},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
			if tt.mode == "fanout" && p.Rounds*3 != p.Notifications {
				t.Errorf("fan-out: %d rounds but %d notifications, want 3 per round", p.Rounds, p.Notifications)
			}
		})
	}
}

// TestChildProtocol runs the -child side in-process: sockets in on stdin,
// reports out on stdout, a final report after stdin ends.
func TestChildProtocol(t *testing.T) {
	srv, err := startRawServer(false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runChild(t.Context(), inR, outW)
		outW.Close()
	}()
	in := childInput{WS: srv.url(), Timeout: 10 * time.Second, Sockets: socketSpecs(rawUsers(2), 4, nil)}
	if err := json.NewEncoder(inW).Encode(in); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(outR)
	deadline := time.Now().Add(30 * time.Second)
	next := func() fleetStats {
		t.Helper()
		if time.Now().After(deadline) {
			t.Fatal("child reports did not reach the expected state in time")
		}
		var s fleetStats
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("read child report: %v", err)
		}
		return s
	}

	s := next()
	for !s.ConnectDone {
		s = next()
	}
	if s.Connected != 4 || s.Failed != 0 {
		t.Fatalf("child connected %d, failed %d (%v), want 4 and 0", s.Connected, s.Failed, s.ConnectErrors)
	}
	srv.broadcast([]int64{1, 2}, contentPrefix+strconv.FormatInt(time.Now().UnixNano(), 10)+" seq=1")
	for s.Delivered < 4 {
		s = next()
	}
	inW.Close() // the parent is done: the child closes its sockets
	for !s.Final {
		s = next()
	}
	if s.Delivered != 4 || s.Duplicates != 0 || s.Latency.Count != 4 || len(s.CloseCodes) != 0 {
		t.Errorf("final report: delivered %d, duplicates %d, latencies %d, close codes %v; want 4, 0, 4, none",
			s.Delivered, s.Duplicates, s.Latency.Count, s.CloseCodes)
	}
	if err := <-done; err != nil {
		t.Errorf("runChild: %v", err)
	}
}
