package main

import "fmt"

// correctness lists what went wrong in a run other than speed: sockets that
// did not connect, publishes that failed, and frames lost, repeated or out
// of order. -check turns these into a failing exit code, so a CI smoke run
// catches a broken delivery path without ever asserting on timings.
func (s summary) correctness() []error {
	var errs []error
	for _, t := range []*targetSummary{s.Notifyd, s.Fault, s.Floor, s.Raw} {
		if t == nil {
			continue
		}
		if t.Sockets.Connected < int64(t.Sockets.Requested) {
			errs = append(errs, fmt.Errorf("%s: %d of %d sockets connected", t.Target, t.Sockets.Connected, t.Sockets.Requested))
		}
		if t.Publish.Failed > 0 {
			errs = append(errs, fmt.Errorf("%s: %d publish requests failed", t.Target, t.Publish.Failed))
		}
		d := t.Delivery
		if d.Missing > 0 || d.Duplicates > 0 || d.OutOfOrder > 0 {
			errs = append(errs, fmt.Errorf("%s: frames missing %d, duplicated %d, out of order %d", t.Target, d.Missing, d.Duplicates, d.OutOfOrder))
		}
		if t.Error != "" {
			errs = append(errs, fmt.Errorf("%s: %s", t.Target, t.Error))
		}
		if f := t.Fault; f != nil {
			if c := f.Check; !c.ok() {
				errs = append(errs, fmt.Errorf("%s: sockets against the database: missing %d, duplicated %d, out of order %d, not their user's %d",
					t.Target, c.Missing, c.Duplicated, c.OutOfOrder, c.Foreign))
			}
			if f.Error != "" {
				errs = append(errs, fmt.Errorf("%s: the fault: %s", t.Target, f.Error))
			}
		}
	}
	return errs
}
