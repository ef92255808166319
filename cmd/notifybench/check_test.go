package main

import "testing"

func TestCorrectness(t *testing.T) {
	good := func() *targetSummary {
		return &targetSummary{
			Target:   "notifyd",
			Sockets:  socketsSummary{Requested: 4, Connected: 4},
			Delivery: deliverySummary{Expected: 10, Delivered: 10},
		}
	}
	tests := []struct {
		name   string
		mutate func(*targetSummary)
		want   int
	}{
		{"clean run", func(*targetSummary) {}, 0},
		{"socket failed", func(t *targetSummary) { t.Sockets.Connected = 3 }, 1},
		{"publish failed", func(t *targetSummary) { t.Publish.Failed = 1 }, 1},
		{"frame missing", func(t *targetSummary) { t.Delivery.Missing = 1 }, 1},
		{"duplicate", func(t *targetSummary) { t.Delivery.Duplicates = 2 }, 1},
		{"out of order", func(t *targetSummary) { t.Delivery.OutOfOrder = 1 }, 1},
		{"child failed", func(t *targetSummary) { t.Error = "exit 1" }, 1},
		{"several", func(t *targetSummary) { t.Publish.Failed = 1; t.Delivery.Missing = 1 }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := good()
			tt.mutate(ts)
			if got := (summary{Notifyd: ts}).correctness(); len(got) != tt.want {
				t.Fatalf("correctness() = %v, want %d errors", got, tt.want)
			}
		})
	}
}
