package gate_test

import (
	"sync/atomic"
	"testing"

	"github.com/notifyd/notifyd/internal/gate"
)

// TestGate: Close waits for the goroutine inside, which its stop function
// ends; an Enter after Close is refused; a second Close returns at once.
func TestGate(t *testing.T) {
	var g gate.Gate
	if !g.Enter() {
		t.Fatal("an open gate refused Enter")
	}
	stop := make(chan struct{})
	var left atomic.Bool
	go func() {
		<-stop
		left.Store(true)
		g.Leave()
	}()
	g.Close(func() { close(stop) })
	if !left.Load() {
		t.Fatal("Close returned before the goroutine inside left")
	}
	if g.Enter() {
		t.Fatal("Enter after Close was admitted")
	}
	g.Close(func() {})
}
