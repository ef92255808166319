package natsbroker_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that Close stops every goroutine the bus and its NATS
// connection started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
