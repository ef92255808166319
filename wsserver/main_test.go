package wsserver

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives the tests: every
// connection's reader and writer must end with its socket.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
