package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/testkit"
)

// clProcess is notifyd running as a real process.
type clProcess struct {
	*instance // HTTPURL and WSURL, for the API helpers
	cmd       *exec.Cmd
	exited    chan struct{}
	logs      *testkit.LogBuffer
}

// clBuild builds the notifyd binary once for the test and returns its path.
func clBuild(tb testing.TB) string {
	tb.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("go tool not found: cannot build the binary")
	}
	bin := filepath.Join(tb.TempDir(), "notifyd")
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// clStartProcess runs bin with env (and none of the caller's NOTIFYD_*
// variables) and waits for its "listening" log line.
func clStartProcess(tb testing.TB, bin string, env map[string]string) *clProcess {
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
	p := &clProcess{instance: &instance{}, cmd: cmd, exited: make(chan struct{}), logs: &testkit.LogBuffer{}}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	ready := make(chan listening, 1)
	go func() {
		_ = copyLog(stdout, p.logs, ready)
		_ = cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(func() { p.terminate(tb) })
	select {
	case l, ok := <-ready:
		if !ok {
			tb.Fatalf("notifyd exited before listening:\n%s", p.logs.String())
		}
		p.HTTPURL, p.WSURL = l.HTTPURL, l.WSURL
	case <-time.After(testkit.Timeout):
		tb.Fatalf("notifyd did not report listening:\n%s", p.logs.String())
	}
	return p
}

// kill ends the process with SIGKILL: no shutdown, no close frames.
func (p *clProcess) kill(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	<-p.exited
}

// terminate stops the process with SIGTERM, or SIGKILL if it hangs.
func (p *clProcess) terminate(tb testing.TB) {
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
		tb.Errorf("notifyd ignored SIGTERM:\n%s", p.logs.String())
	}
}

// TestClusterKill9 runs two notifyd processes on one database, with
// clients on A and publishers on B, then kills A with SIGKILL: its clients
// reconnect to B with after_id and end up with every notification exactly
// once.
func TestClusterKill9(t *testing.T) { clKill9(t, clusterEnv(t)) }

// clKill9 is TestClusterKill9 with env (the broker's settings).
func clKill9(t *testing.T, env map[string]string) {
	bin := clBuild(t)
	a := clStartProcess(t, bin, env)
	b := clStartProcess(t, bin, clClone(env))
	alice, aliceSecret := b.instance.external(t, "alice")
	bob, bobSecret := b.instance.external(t, "bob")
	clients := []clTab{
		{"alice tab 1", alice, clResume(t, a.WSURL, aliceSecret)},
		{"alice tab 2", alice, clResume(t, a.WSURL, aliceSecret)},
		{"alice tab 3", alice, clResume(t, a.WSURL, b.instance.session(t, "alice"))},
		{"bob", bob, clResume(t, a.WSURL, bobSecret)},
	}
	traffic := clStartTraffic(b.publisher(t), b.publisher(t))
	for _, c := range clients {
		testkit.Eventually(t, c.name+" receiving through A", func() bool { return len(c.c.got()) >= 20 })
		// From now on a reconnect goes to B; the socket stays on A.
		c.c.retarget(b.WSURL)
	}

	a.kill(t)
	for _, c := range clients {
		testkit.Eventually(t, c.name+" reconnected", func() bool { r, _ := c.c.stats(); return r > 0 })
		n := len(c.c.got())
		testkit.Eventually(t, c.name+" receiving through B", func() bool { return len(c.c.got()) > n+10 })
	}
	traffic.halt(t)
	if code := clReadyz(b.instance); code != http.StatusOK {
		t.Fatalf("B's readyz = %d after A died", code)
	}
	clCheckTabs(t, env, clients)
}
