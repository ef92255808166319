package testkit

import (
	"slices"
	"testing"
)

// CheckExactlyOnce fails the test (without stopping it) unless got is
// want: every id once, in strictly increasing order — what a client
// must see of the ids the database holds. who names the client; the
// message names the first difference.
func CheckExactlyOnce(tb testing.TB, who string, got, want []int64) {
	tb.Helper()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			tb.Errorf("%s: id %d after %d (position %d): not strictly increasing (a duplicate or a reordering)", who, got[i], got[i-1], i)
			return
		}
	}
	if slices.Equal(got, want) {
		return
	}
	seen := make(map[int64]bool, len(got))
	for _, id := range got {
		seen[id] = true
	}
	var missing []int64
	for _, id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	tb.Errorf("%s: saw %d ids, the database holds %d; missing %v (first 20); saw %v ... %v",
		who, len(got), len(want), missing[:min(len(missing), 20)], got[:min(len(got), 5)], got[max(len(got)-5, 0):])
}
