package testkit_test

import (
	"os/exec"
	"strings"
	"testing"
)

const kit = "github.com/notifyd/notifyd/internal/testkit"

// TestNoProductionImport fails if a package of the module that is not test
// support (its name ends in "test", or it is the kit) depends on the kit,
// directly or not: the kit is for tests, and a binary that linked it would
// ship its fixed keys and cheap passwords. go list leaves _test.go files
// out, so the suites that use the kit do not count.
func TestNoProductionImport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/notifyd/notifyd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		pkg, deps, _ := strings.Cut(strings.TrimSpace(line), " ")
		if pkg == kit || strings.HasSuffix(pkg, "test") {
			continue
		}
		checked++
		for dep := range strings.FieldsSeq(deps) {
			if dep == kit {
				t.Errorf("%s depends on %s: the test kit must not reach production code", pkg, kit)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("go list named %d production packages; the check saw too few to mean anything:\n%s", checked, out)
	}
}
