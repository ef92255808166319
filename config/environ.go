package config

import (
	"fmt"
	"strings"
)

// isToolVariable reports whether name is a NOTIFYD_* variable that is not a
// configuration key but is read by the project's tests and tools, so Load
// must not refuse it:
//   - NOTIFYD_TEST_DATABASE_URL: run the test suites on Postgres;
//   - NOTIFYD_TEST_NATS_URL: the NATS server of the NATS broker's tests;
//   - NOTIFYD_TEST_CHROMIUM, NOTIFYD_REQUIRE_BROWSER, NOTIFYD_SCREENSHOTS:
//     the browser tests (cmd/notifyd/browser_test.go);
//   - NOTIFYD_PPROF_ADDR, NOTIFYD_MEMPROFILERATE: profiling builds
//     (BENCHMARKS.md);
//   - NOTIFYD_JWT_SECRET, NOTIFYD_KEY: the token-signing examples
//     (examples/) and the Go client's documentation (client/).
func isToolVariable(name string) bool {
	switch name {
	case "NOTIFYD_TEST_DATABASE_URL", "NOTIFYD_TEST_NATS_URL", "NOTIFYD_TEST_CHROMIUM", "NOTIFYD_REQUIRE_BROWSER",
		"NOTIFYD_SCREENSHOTS", "NOTIFYD_PPROF_ADDR", "NOTIFYD_MEMPROFILERATE",
		"NOTIFYD_JWT_SECRET", "NOTIFYD_KEY":
		return true
	}
	return false
}

// getenvFrom returns a getenv over environ ("KEY=value" entries, as
// os.Environ returns them). The first entry of a name wins, as in
// os.Getenv.
func getenvFrom(environ []string) func(string) string {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if _, seen := vars[k]; !seen {
			vars[k] = v
		}
	}
	return func(k string) string { return vars[k] }
}

// unknownVariables reports every set NOTIFYD_* variable that names no key:
// a misspelled variable must stop start-up like a misspelled file key,
// not leave the default silently in force. Empty variables count as unset.
func unknownVariables(c *Config, environ []string) []error {
	known := map[string]bool{}
	for _, f := range fields(c) {
		known[f.env] = true
	}
	var errs []error
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || value == "" || known[name] || isToolVariable(name) {
			continue
		}
		reason := "unknown variable: no configuration key has this name (see config.toml)"
		if near := nearest(name, known); near != "" {
			reason = fmt.Sprintf("unknown variable: did you mean %s?", near)
		}
		if r, ok := removedKeys[envKey(name)]; ok {
			reason = r
		}
		errs = append(errs, &KeyError{Source: "environment", Key: name, Reason: reason})
	}
	return errs
}

// nearest returns the known name closest to name when it is a likely typo
// (at most two edits away), else "".
func nearest(name string, known map[string]bool) string {
	best, bestDist := "", 3
	for k := range known {
		if d := editDistance(name, k); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// removedKeys are the keys of earlier versions that are refused with a
// hint instead of a bare "unknown key".
var removedKeys = map[string]string{
	"cluster.enabled": `removed: cluster mode is now chosen by cluster.broker ("postgres" for the former enabled = true, with cluster.secret)`,
}

// envKey is the file key of a NOTIFYD_ variable name, for the keys whose
// section and name hold no underscore themselves (enough for removedKeys).
func envKey(name string) string {
	k := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
	section, rest, _ := strings.Cut(k, "_")
	return section + "." + rest
}
