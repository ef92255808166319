package cluster_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the listener's
// Close must stop everything it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
