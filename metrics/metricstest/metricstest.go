// Package metricstest reads Prometheus metrics in tests, the way a user of
// the metrics would: by name and labels from a registry.
package metricstest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Value returns the series of name with the label pairs labels from reg: a
// counter's or gauge's value, or a histogram's sample count; 0 when there
// is no such series.
func Value(tb testing.TB, reg prometheus.Gatherer, name string, labels ...string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m.GetLabel(), labels) {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// labelPair is the part of the client model's label pair Value reads.
type labelPair interface {
	GetName() string
	GetValue() string
}

func hasLabels[L labelPair](have []L, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, lp := range have {
			found = found || (lp.GetName() == want[i] && lp.GetValue() == want[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}
