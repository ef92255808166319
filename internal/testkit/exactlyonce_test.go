package testkit_test

import (
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
)

func TestCheckExactlyOnce(t *testing.T) {
	tests := []struct {
		name      string
		got, want []int64
		report    string // "" when the check must pass
	}{
		{"all once in order", []int64{1, 2, 5}, []int64{1, 2, 5}, ""},
		{"nothing of nothing", nil, nil, ""},
		{"a duplicate", []int64{1, 2, 2, 5}, []int64{1, 2, 5}, "id 2 after 2 (position 2)"},
		{"reordered", []int64{1, 5, 2}, []int64{1, 2, 5}, "id 2 after 5"},
		{"one missing", []int64{1, 5}, []int64{1, 2, 5}, "missing [2]"},
		{"one too many", []int64{1, 2, 5, 7}, []int64{1, 2, 5}, "saw 4 ids, the database holds 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &testkit.Recorder{TB: t}
			testkit.CheckExactlyOnce(r, "tab", tt.got, tt.want)
			switch {
			case tt.report == "" && len(r.Errors) > 0:
				t.Fatalf("reported %q, want nothing", r.Errors)
			case tt.report != "" && (len(r.Errors) != 1 || !strings.Contains(r.Errors[0], tt.report)):
				t.Fatalf("reported %q, want one report with %q", r.Errors, tt.report)
			}
		})
	}
}
