package testkit

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// Eventually polls cond until it holds, failing the test after Timeout:
// for waiting on state a test cannot be told about (a socket the server
// has unregistered), never as a timing assertion.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Receive returns the next value sent on ch, failing the test after
// Timeout with what it was waiting for.
func Receive[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Timeout):
		tb.Fatalf("timed out waiting for: %s", what)
		var zero T
		return zero
	}
}

// LogBuffer collects what servers log from their own goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Records returns the JSON log records written so far, failing on a line
// that is not JSON.
func (l *LogBuffer) Records(tb testing.TB) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}
