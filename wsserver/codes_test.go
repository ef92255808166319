package wsserver

import (
	"testing"

	"github.com/notifyd/notifyd/notify"
)

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

// TestCloseCode: each reason the domain closes a socket for goes on the
// wire with the code docs/protocol.md gives it.
func TestCloseCode(t *testing.T) {
	tests := []struct {
		why  notify.CloseReason
		want int
	}{
		{notify.CloseGoingAway, 1001},
		{notify.CloseUnauthorized, 4401},
		{notify.CloseQueueFull, 4008},
		{notify.CloseNone, 1001},
	}
	for _, tt := range tests {
		if got := closeCode(tt.why); got != tt.want {
			t.Errorf("closeCode(%v) = %d, want %d", tt.why, got, tt.want)
		}
	}
}
