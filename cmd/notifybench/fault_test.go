package main

import (
	"testing"

	"github.com/notifyd/notifyd/natsbroker/natstest"
)

// TestFaultSmoke runs each -fault mode small and short on two started
// instances: the run must end without error (the tool fails when a socket
// misses, repeats or reorders a row of its user in the database), both
// passes must check every socket, and the fault must have hit (sockets
// resumed after the kill; a catch-up after the listeners or the NATS
// server came back). It asserts nothing about timings.
func TestFaultSmoke(t *testing.T) {
	db := benchDB(t)
	bin := buildNotifyd(t)
	tests := []struct {
		fault string
		args  []string
		nats  bool
	}{
		{faultKill, nil, false},
		{faultPGTerm, nil, false},
		{faultNATSRestart, []string{"-broker", "nats"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			if tt.nats {
				natstest.URL(t) // skips unless NATS tests are asked for; the run starts its own server
			}
			sum := runSummary(t, append([]string{"-start", "2", "-notifyd-bin", bin, "-db", db, "-fault", tt.fault,
				"-users", "4", "-sockets", "8", "-rate", "40", "-duration", "3s", "-fault-at", "1s", "-fault-down", "300ms",
				"-timeout", "3m", "-idle", "0s"}, tt.args...)...)
			for _, ts := range []*targetSummary{sum.Notifyd, sum.Fault} {
				if ts == nil || ts.Fault == nil {
					t.Fatalf("want two passes with a fault section, got %+v", sum)
				}
				f := ts.Fault
				c := f.Check
				if !c.ok() || c.Sockets != 8 || f.Committed == 0 || c.Owed != 2*f.Committed || c.Received != c.Owed || f.Error != "" {
					t.Errorf("%s: check %+v over %d rows, error %q: want 8 sockets, each row twice, nothing lost", ts.Target, c, f.Committed, f.Error)
				}
				if ts.Publish.Failed != 0 {
					t.Errorf("%s: %d publishes failed: the Go client's retries should carry them through", ts.Target, ts.Publish.Failed)
				}
			}
			if n := sum.Notifyd.Fault; n.Mode != "none" || n.Reconnects != 0 || n.Replayed+n.Repaired != 0 {
				t.Errorf("pass without a fault: %+v, want nothing recovered", n)
			}
			f := sum.Fault.Fault
			if f.Mode != tt.fault || f.DownSeconds <= 0 {
				t.Errorf("fault %+v: want %s, back after some time", f, tt.fault)
			}
			switch tt.fault {
			case faultKill:
				if f.Reconnects < 4 { // every socket of the killed instance: half of 8
					t.Errorf("kill: %d reconnects, want the 4 sockets of the killed instance back", f.Reconnects)
				}
			default:
				if f.CatchUps == 0 {
					t.Errorf("%s: no unread_count frame: no catch-up reached the sockets", tt.fault)
				}
			}
		})
	}
}
