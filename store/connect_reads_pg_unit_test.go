package store

import (
	"strings"
	"testing"
)

// TestInListSQL: a padded batch of n keys gets the text with exactly n
// parameters; any other size is refused, never read with a wrong list.
func TestInListSQL(t *testing.T) {
	texts := inLists("SELECT 1 WHERE x IN ")
	for n := 1; n <= readBatchKeys; n *= 2 {
		sql, err := inListSQL(texts, n)
		if err != nil {
			t.Fatalf("%d keys: %v", n, err)
		}
		if got := strings.Count(sql, "$"); got != n {
			t.Fatalf("%d keys: %d parameters in %q", n, got, sql)
		}
	}
	if sql, _ := inListSQL(texts, 2); sql != "SELECT 1 WHERE x IN ($1, $2)" {
		t.Fatalf("2 keys: %q", sql)
	}
	for _, n := range []int{0, 3, 6, 2 * readBatchKeys} {
		if sql, err := inListSQL(texts, n); err == nil {
			t.Fatalf("%d keys: got %q, want an error", n, sql)
		}
	}
}
