// Package natstest gives tests a NATS server: the shared one of
// NOTIFYD_TEST_NATS_URL (nats://127.0.0.1:4222 when CI=true), or a private
// nats-server process a test may stop and start again. Without either
// variable, tests needing NATS skip, as Postgres tests do without
// NOTIFYD_TEST_DATABASE_URL.
package natstest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// EnvURL names the environment variable with the URL of the NATS server
// tests use, for example nats://127.0.0.1:4222.
const EnvURL = "NOTIFYD_TEST_NATS_URL"

// DefaultURL is the server tests use when CI=true and EnvURL is unset:
// the one .ci/run starts.
const DefaultURL = "nats://127.0.0.1:4222"

// startTimeout bounds waiting for a server to accept connections.
const startTimeout = 10 * time.Second

// required reports whether NATS tests must run (EnvURL set, or CI).
func required() bool {
	ci := os.Getenv("CI")
	return os.Getenv(EnvURL) != "" || ci == "true" || ci == "1"
}

// URL returns the URL of the shared NATS server, or skips the test when
// NATS tests are not asked for. In CI a server that does not answer fails
// the test.
func URL(tb testing.TB) string {
	tb.Helper()
	if !required() {
		tb.Skip("NATS tests skipped: set " + EnvURL + "=" + DefaultURL + " with a nats-server running (CI=true uses that default)")
	}
	u := os.Getenv(EnvURL)
	if u == "" {
		u = DefaultURL
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		tb.Fatalf("natstest: %s is not a nats:// URL", EnvURL)
	}
	if err := waitAccepting(parsed.Host, time.Second); err != nil {
		tb.Fatalf("natstest: no NATS server at %s (%v): start one with `nats-server -a 127.0.0.1 -p 4222` (.ci/run does)", parsed.Host, err)
	}
	return u
}

// Prefix returns a subject prefix of the test's own: tests and other
// processes share the server.
func Prefix(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "notifydtest.t" + hex.EncodeToString(b[:])
}

// Server is a private nats-server process on a free port of 127.0.0.1.
type Server struct {
	URL  string
	tb   testing.TB
	bin  string
	addr string
	args []string
	cmd  *exec.Cmd
}

// Start runs a private nats-server (the Debian package's
// /usr/sbin/nats-server, or one on PATH) with the extra command-line args
// (for example "--auth", token), stopped when the test ends. It skips like
// URL; in CI a missing binary fails the test.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	if !required() {
		tb.Skip("NATS tests skipped: set " + EnvURL + " or CI=true, with nats-server installed")
	}
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
		if _, err := os.Stat(bin); err != nil {
			tb.Fatal("natstest: nats-server not found: apt-get install nats-server")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s := &Server{URL: "nats://" + addr, tb: tb, bin: bin, addr: addr, args: args}
	tb.Cleanup(s.Stop)
	s.Restart()
	return s
}

// Restart starts the server again after Stop (or the first time), and
// waits until it accepts connections.
func (s *Server) Restart() {
	s.tb.Helper()
	_, port, _ := net.SplitHostPort(s.addr)
	logFile := filepath.Join(s.tb.TempDir(), "nats-server.log")
	cmd := exec.Command(s.bin, append([]string{"-a", "127.0.0.1", "-p", port, "-l", logFile}, s.args...)...)
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("natstest: start nats-server: %v", err)
	}
	s.cmd = cmd
	if err := waitAccepting(s.addr, startTimeout); err != nil {
		s.tb.Fatalf("natstest: nats-server on %s does not accept connections: %v", s.addr, err)
	}
}

// Stop kills the server (SIGKILL: its clients see the connection drop
// without a goodbye) and waits for it to exit. Safe to call twice.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// waitAccepting dials addr until it accepts or timeout passes.
func waitAccepting(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
