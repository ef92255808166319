package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux this runs on; Go reads no sysconf without cgo).
const clockTick = 10 * time.Millisecond

// cpuProbe says whose CPU time the run counts: the server's processes, the
// Postgres backends of its connections (those of database pgDB, or named
// pgApp), and this process with its socket children (the client).
type cpuProbe struct {
	server []int
	dbURL  string // where to ask pg_stat_activity; "" when nothing persists
	pgDB   string
	pgApp  string
}

// cpuSample is the CPU time of each part at one instant.
type cpuSample struct {
	at       time.Time
	server   time.Duration
	client   time.Duration
	postgres map[int]time.Duration // every postgres process by pid
	backends map[int]bool          // the server's backends among them
	err      error
}

// cpuSummary is the CPU time the run's processes spent from the first
// publish until the frames were drained, in milliseconds per 1,000
// requests, and the cores they kept busy (CPU time ÷ that window). On a
// shared box this, not the rate, is what carries from run to run.
type cpuSummary struct {
	Requests int64   `json:"requests"`
	Seconds  float64 `json:"seconds"`
	Server   float64 `json:"server_ms_per_1k"`
	// Postgres is the backends of the server's connections; PostgresOther
	// every other postgres process (WAL writer, checkpointer, autovacuum —
	// and the backends of whatever else the box runs on that Postgres).
	Postgres      float64 `json:"postgres_ms_per_1k"`
	PostgresOther float64 `json:"postgres_other_ms_per_1k"`
	Client        float64 `json:"client_ms_per_1k"` // this tool and its socket children
	Total         float64 `json:"total_ms_per_1k"`  // server + postgres backends + client
	Cores         float64 `json:"busy_cores"`       // Total's CPU time ÷ the window
	Error         string  `json:"error,omitempty"`
}

// sample reads the CPU time of every part; clients are the socket
// children's pids.
func (p *cpuProbe) sample(ctx context.Context, clients []int) cpuSample {
	s := cpuSample{at: time.Now()}
	var errs []error
	add := func(dst *time.Duration, pid int) {
		d, err := processCPU(pid)
		*dst += d
		errs = append(errs, err)
	}
	for _, pid := range p.server {
		add(&s.server, pid)
	}
	add(&s.client, os.Getpid())
	for _, pid := range clients {
		add(&s.client, pid)
	}
	if p.dbURL != "" {
		s.postgres = postgresProcesses()
		var err error
		s.backends, err = postgresBackends(ctx, p.dbURL, p.pgDB, p.pgApp)
		errs = append(errs, err)
	}
	s.err = errors.Join(errs...)
	return s
}

// summarize is the CPU of the window from a to b for requests.
func summarizeCPU(a, b cpuSample, requests int64) *cpuSummary {
	c := &cpuSummary{Requests: requests, Seconds: math.Round(b.at.Sub(a.at).Seconds()*1000) / 1000}
	if err := errors.Join(a.err, b.err); err != nil {
		c.Error = err.Error()
	}
	var pg, pgOther time.Duration
	for pid, end := range b.postgres {
		start, seen := a.postgres[pid]
		switch {
		case a.backends[pid] || b.backends[pid]:
			pg += end - start // a backend opened meanwhile counts from 0
		case seen:
			pgOther += end - start
		}
	}
	per1k := func(d time.Duration) float64 {
		if requests == 0 {
			return 0
		}
		return math.Round(float64(d.Milliseconds())/float64(requests)*1000*10) / 10
	}
	total := b.server - a.server + pg + b.client - a.client
	c.Server, c.Postgres, c.PostgresOther = per1k(b.server-a.server), per1k(pg), per1k(pgOther)
	c.Client, c.Total = per1k(b.client-a.client), per1k(total)
	if w := b.at.Sub(a.at); w > 0 {
		c.Cores = math.Round(total.Seconds()/w.Seconds()*100) / 100
	}
	return c
}

// processCPU is utime + stime of pid, from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu: %w", err)
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/PID/stat
// line; the command name in parentheses may hold spaces.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("cpu: no command name in stat")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("cpu: short stat line")
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("cpu: %w", err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// postgresProcesses is the CPU time of every process named postgres, by
// pid; a process that ends meanwhile is left out.
func postgresProcesses() map[int]time.Duration {
	out := map[int]time.Duration{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil || !bytes.Contains(b, []byte("(postgres)")) {
			continue
		}
		if d, err := parseStatCPU(b); err == nil {
			out[pid] = d
		}
	}
	return out
}

// postgresBackends lists the client backends connected to database db or
// named app (application_name), asking pg_stat_activity on dbURL. An empty
// db or app matches nothing: notifyd's backends have no application_name,
// nor have those of whatever else uses this Postgres (a test suite, another
// run), which were counted as notifyd's.
// Autovacuum workers are left out (they count as other postgres): the
// floor's table lives in a shared database, where they cannot be told
// apart, so notifyd's are not counted either.
func postgresBackends(ctx context.Context, dbURL, db, app string) (map[int]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("cpu: connect to -db: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND ($1 <> '' AND datname = $1 OR $2 <> '' AND application_name = $2)", db, app)
	if err != nil {
		return nil, fmt.Errorf("cpu: pg_stat_activity: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("cpu: pg_stat_activity: %w", err)
	}
	out := make(map[int]bool, len(pids))
	for _, pid := range pids {
		out[int(pid)] = true
	}
	return out, nil
}
