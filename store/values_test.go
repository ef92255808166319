package store

import "testing"

func TestValuesList(t *testing.T) {
	tests := []struct {
		name  string
		tuple string
		n     int
		want  string
	}{
		{"none", "(?, ?)", 0, ""},
		{"one", "(?, ?)", 1, "(?, ?)"},
		{"three", "('', ?)", 3, "('', ?), ('', ?), ('', ?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := valuesList(tt.tuple, tt.n); got != tt.want {
				t.Errorf("valuesList(%q, %d) = %q, want %q", tt.tuple, tt.n, got, tt.want)
			}
		})
	}
}
