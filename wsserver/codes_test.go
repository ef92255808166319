package wsserver

import "testing"

// TestCodeLabel: the close code label of notifyd_ws_closes_total keeps the
// standard codes and ours, and bounds what a client may choose.
func TestCodeLabel(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{0, "none"},
		{-1, "none"},
		{1000, "1000"},
		{1015, "1015"},
		{4401, "4401"},
		{4008, "4008"},
		{4429, "4429"},
		{4999, "other"}, // any code a client chose
		{3000, "other"},
	}
	for _, tt := range tests {
		if got := codeLabel(tt.code); got != tt.want {
			t.Errorf("codeLabel(%d) = %q, want %q", tt.code, got, tt.want)
		}
	}
}
