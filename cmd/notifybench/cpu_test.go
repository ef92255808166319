package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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

// TestPostgresBackendsOnlyTheServers: a backend of another database with no
// application_name (another program on the same Postgres, a test suite) is
// not counted as the server's, whose app name is "" when only its database
// names it.
func TestPostgresBackendsOnlyTheServers(t *testing.T) {
	dbURL := benchDB(t)
	ctx := t.Context()
	other, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	if _, err := other.Exec(ctx, "SET application_name = ''"); err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := other.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	got, err := postgresBackends(ctx, dbURL, "notifybench_no_such_database", "")
	if err != nil {
		t.Fatal(err)
	}
	if got[pid] {
		t.Errorf("backend %d of another database without an application_name counted as the server's", pid)
	}
}
