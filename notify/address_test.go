package notify_test

import (
	"testing"

	"github.com/notifyd/notifyd/notify"
)

func TestAddressKey(t *testing.T) {
	tests := []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"192.0.2.1", "::ffff:192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run("same "+tt.a, func(t *testing.T) {
			if ka, kb := notify.AddressKey(tt.a), notify.AddressKey(tt.b); ka != kb {
				t.Fatalf("%s → %q, %s → %q: want one key", tt.a, ka, tt.b, kb)
			}
		})
	}
	different := []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"192.0.2.1", "192.0.2.2"},
	}
	for _, tt := range different {
		t.Run("different "+tt.a, func(t *testing.T) {
			if notify.AddressKey(tt.a) == notify.AddressKey(tt.b) {
				t.Fatalf("%s and %s share a key", tt.a, tt.b)
			}
		})
	}
}
