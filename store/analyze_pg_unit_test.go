package store

import "testing"

// TestOutgrown: a table is analyzed for its growth once it has doubled
// since its statistics and since the store last analyzed it, and never
// while it is tiny.
func TestOutgrown(t *testing.T) {
	tests := []struct {
		name                     string
		pages, stats, analyzedAt int64
		want                     bool
	}{
		{"never analyzed, small", 63, 0, 0, false},
		{"never analyzed, grown", 64, 0, 0, true},
		{"analyzed at one page, still small", 63, 1, 0, false},
		{"analyzed at one page, grown", 200, 1, 0, true},
		{"statistics current", 300, 200, 0, false},
		{"doubled since the statistics", 400, 200, 0, true},
		{"analyzed by the store since", 400, 200, 300, false},
		{"doubled since the store analyzed it", 600, 200, 300, true},
		{"shrunk", 70, 500, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outgrown(tt.pages, tt.stats, tt.analyzedAt); got != tt.want {
				t.Fatalf("outgrown(%d pages, statistics at %d, analyzed at %d) = %v, want %v",
					tt.pages, tt.stats, tt.analyzedAt, got, tt.want)
			}
		})
	}
}
