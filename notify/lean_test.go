package notify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeanDomain fails if notify depends, directly or not, on a metrics
// library or on an adapter of its own module: the domain declares what it
// observes (Observer) and the interfaces it needs; package metrics and
// the adapters implement them. go list leaves _test.go files out.
func TestLeanDomain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/notifyd/notifyd/notify").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{
		"github.com/prometheus/",
		"github.com/notifyd/notifyd/metrics",
		"github.com/notifyd/notifyd/store",
		"github.com/notifyd/notifyd/wsserver",
		"github.com/notifyd/notifyd/httpserver",
		"github.com/coder/websocket",
	}
	seen := 0
	for dep := range strings.FieldsSeq(string(out)) {
		seen++
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("notify depends on %s: the domain must stay free of metrics and adapters", dep)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list named %d dependencies of notify; too few to mean anything:\n%s", seen, out)
	}
}
