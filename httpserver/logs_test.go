package httpserver

import (
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
)

// accessRecord returns the access log record of the request with id.
func accessRecord(tb testing.TB, logs *testkit.LogBuffer, requestID string) map[string]any {
	tb.Helper()
	for _, r := range logs.Records(tb) {
		if r["msg"] == "http request" && r["request_id"] == requestID {
			return r
		}
	}
	tb.Fatalf("no access log record for request %s in\n%s", requestID, logs.String())
	return nil
}
