package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoginFloodMemoryBound replays the attack on the real binary with
// the production password parameters (argon2id, 19 MiB per hash): 100
// concurrent logins for unknown names from 5 loopback addresses, 20 each,
// inside the per-address limit. They used to take the process from about
// 100 MB to 1.99 GB. With the hashes in flight bounded, the peak resident
// size (VmHWM) stays under 300 MB, and what is not hashed is refused with
// 503 and Retry-After.
func TestLoginFloodMemoryBound(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the peak resident size")
	}
	env := testEnv(t)
	delete(env, "NOTIFYD_AUTH_LOGIN_PER_MINUTE_IP") // the default 20: the flood fits in it
	env["NOTIFYD_LOG_LEVEL"] = "info"
	// Pinned rather than the number of CPUs, so the bound means the same on
	// any machine.
	env["NOTIFYD_AUTH_HASH_CONCURRENCY"] = "4"
	p := startProcess(t, buildNotifyd(t), env)

	const addrs, perAddr = 5, 20
	statuses := make(chan string, addrs*perAddr)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for a := range addrs {
		client := clientFrom(fmt.Sprintf("127.0.0.%d", a+1))
		for i := range perAddr {
			wg.Go(func() {
				<-start
				body := fmt.Sprintf(`{"username":"nobody-%d-%d","password":"not the password"}`, a, i)
				res, err := client.Post(p.HTTPURL+"/api/sessions", "application/json", strings.NewReader(body))
				if err != nil {
					statuses <- "error: " + err.Error()
					return
				}
				res.Body.Close()
				s := strconv.Itoa(res.StatusCode)
				if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
					s += " without Retry-After"
				}
				statuses <- s
			})
		}
	}
	close(start)
	wg.Wait()
	close(statuses)
	counts := map[string]int{}
	for s := range statuses {
		counts[s]++
	}
	t.Logf("answers: %v", counts)
	for s := range counts {
		if s != "401" && s != "503" {
			t.Errorf("answer %q: want 401, or 503 with Retry-After", s)
		}
	}

	const limit = 300 << 20
	if hwm := peakRSS(t, p.cmd.Process.Pid); hwm > limit {
		t.Fatalf("peak resident size %d MB, want under %d MB", hwm>>20, limit>>20)
	} else {
		t.Logf("peak resident size %d MB", hwm>>20)
	}
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip, with one connection per request.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 30 * time.Second}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// peakRSS reads VmHWM, the peak resident set size, of process pid.
func peakRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
