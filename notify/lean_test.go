package notify_test

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

// TestLeanDomain fails if notify, or the Go client whose wire types are
// notify's, links anything beyond the standard library, notify itself and
// golang.org/x/crypto (argon2, with x/sys/cpu under it): the domain
// declares what it observes (Observer) and the interfaces it needs, and
// package metrics and the adapters implement them, so neither notify nor
// an app that imports the client builds Prometheus, a database driver, gin
// or a websocket library. go list leaves _test.go files out.
func TestLeanDomain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const notifyPkg = "github.com/notifyd/notifyd/notify"
	for _, pkg := range []string{notifyPkg, "github.com/notifyd/notifyd/client"} {
		t.Run(path.Base(pkg), func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			sawNotify := false
			for dep := range strings.FieldsSeq(string(out)) {
				first, _, _ := strings.Cut(dep, "/")
				if !strings.Contains(first, ".") {
					continue // the standard library, its vendor/ included
				}
				sawNotify = sawNotify || dep == notifyPkg
				if dep != pkg && dep != notifyPkg && !strings.HasPrefix(dep, "golang.org/x/crypto/") && !strings.HasPrefix(dep, "golang.org/x/sys/") {
					t.Errorf("%s depends on %s: the domain, and the client that shares its types, must stay free of metrics, databases and adapters", path.Base(pkg), dep)
				}
			}
			if !sawNotify {
				t.Fatalf("go list does not name notify among the dependencies of %s; the test reads its output wrong:\n%s", pkg, out)
			}
		})
	}
}
