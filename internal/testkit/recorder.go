package testkit

import (
	"fmt"
	"testing"
)

// Recorder is a testing.TB that keeps what a check reports with Errorf
// instead of failing the test, so a test can show that a check fails
// when it must. Any other call goes to the embedded TB.
type Recorder struct {
	testing.TB
	Errors []string
}

// Helper does nothing: the recorded check is the subject, not a helper.
func (r *Recorder) Helper() {}

// Errorf records the report.
func (r *Recorder) Errorf(format string, args ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
}
