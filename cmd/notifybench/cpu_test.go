package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name string
		line string
		want time.Duration
		ok   bool
	}{
		{"plain", "4242 (postgres) S 1 4242 4242 0 -1 4194560 1 0 0 0 150 25 0 0 20 0 1 0 100 0 0", 175 * clockTick, true},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0", 7 * clockTick, true},
		{"short", "7 (x) R 1 2 3", 0, false},
		{"no name", "7 x R", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.line))
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("parseStatCPU = %v, %v; want %v, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestProcessCPUSelf(t *testing.T) {
	// This process has run the tests so far: its own stat line parses.
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}
