package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/testkit"
)

// buildNotifyd builds the notifyd binary into the test's temporary
// directory and returns its path.
func buildNotifyd(tb testing.TB) string {
	tb.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("the go command is needed to build notifyd: %v", err)
	}
	bin := filepath.Join(tb.TempDir(), "notifyd")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is notifyd running as a child process: the tests of signals,
// of a kill -9 and of the process's own memory.
type process struct {
	*instance // HTTPURL and WSURL, for the API helpers
	cmd       *exec.Cmd
	out       *testkit.LogBuffer // stdout and stderr
	exited    chan struct{}      // closed once the process has been waited for
}

// startProcess starts bin with env (and the caller's environment but its
// NOTIFYD_* variables) and waits for its "listening" log line. It is
// stopped with terminate in tb.Cleanup if still running.
func startProcess(tb testing.TB, bin string, env map[string]string) *process {
	tb.Helper()
	cmd := exec.Command(bin, "-config", "/dev/null")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NOTIFYD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{instance: &instance{}, cmd: cmd, out: &testkit.LogBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start notifyd: %v", err)
	}
	ready := make(chan listening, 1)
	go func() {
		_ = copyLog(stdout, p.out, ready)
		// Wait only once stdout is drained (exec.Cmd's rule).
		_ = cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(func() { p.terminate(tb) })
	select {
	case l, ok := <-ready:
		if !ok {
			tb.Fatalf("notifyd exited before listening:\n%s", p.out.String())
		}
		p.HTTPURL, p.WSURL = l.HTTPURL, l.WSURL
	case <-time.After(testkit.Timeout):
		tb.Fatalf("notifyd did not report listening in %s:\n%s", testkit.Timeout, p.out.String())
	}
	return p
}

// kill ends the process with SIGKILL: no shutdown, no close frames.
func (p *process) kill(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	<-p.exited
}

// terminate stops the process with SIGTERM, or SIGKILL if it hangs.
func (p *process) terminate(tb testing.TB) {
	tb.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(testkit.Timeout):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		tb.Errorf("notifyd ignored SIGTERM:\n%s", p.out.String())
	}
}

// wait waits for the process to exit and returns its exit code. The 30 s
// bound is far above http.shutdown_timeout (5 s in tests): a process still
// running then has hung.
func (p *process) wait(tb testing.TB) int {
	tb.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		tb.Fatalf("notifyd still running 30 s after SIGTERM:\n%s", p.out.String())
	}
	out := p.out.String()
	for _, bad := range []string{"panic", "DATA RACE"} {
		if strings.Contains(out, bad) {
			tb.Errorf("notifyd's output has %q:\n%s", bad, out)
		}
	}
	// -1 when a signal killed it.
	return p.cmd.ProcessState.ExitCode()
}
