package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// maxSocketsPerProcess is the most client sockets one process opens. The
// hard limit here is 20,000 files per process; the rest is kept for HTTP
// connections and the runtime.
const maxSocketsPerProcess = 15000

// raiseFileLimit lifts the soft limit on open files to the hard one and
// returns the limit now in force. Go raises it at start-up on Linux too;
// doing it here makes the limit explicit and lets us plan with it.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("setrlimit: %w", err)
		}
	}
	return lim.Cur, nil
}

// childProcesses returns how many child processes should hold the client
// sockets: procs when set, 0 (this process) when they fit, else enough
// processes that each holds at most the per-process share.
func childProcesses(sockets, procs int, fileLimit uint64) int {
	if procs > 0 {
		return procs
	}
	perProc := perProcessSockets(fileLimit)
	if sockets <= perProc {
		return 0
	}
	return (sockets + perProc - 1) / perProc
}

// perProcessSockets is the client share one process may hold under limit.
func perProcessSockets(fileLimit uint64) int {
	perProc := maxSocketsPerProcess
	if fileLimit > 0 && fileLimit < maxSocketsPerProcess+1000 {
		perProc = max(int(fileLimit)-1000, 100)
	}
	return perProc
}

// readRSS returns the resident set size of process pid in KiB, from the
// VmRSS line of /proc/<pid>/status.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("rss: unexpected line %q", line)
		}
		kib, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("rss: %w", err)
		}
		return kib, nil
	}
	return 0, fmt.Errorf("rss: no VmRSS in /proc/%d/status (a kernel thread?)", pid)
}
