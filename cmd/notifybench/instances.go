package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Waits of the started instances.
const (
	instanceReadyTimeout = 60 * time.Second // start-up, migrations included
	instanceStopTimeout  = 20 * time.Second // SIGINT to exit, before SIGKILL
	// startAttempts: a free port picked for an instance may be taken by
	// another process before the instance listens on it.
	startAttempts = 3
)

// instances are notifyd processes the tool started (-start) on a fresh
// database of their own, dropped when they stop.
type instances struct {
	admin  string // -db: the server where the database was created
	dbName string
	procs  []*instance
	bin    string   // the notifyd binary, for a restart
	env    []string // their environment without the ports, for a restart
}

// instance is one started notifyd.
type instance struct {
	ep      endpoint
	metrics string // with -profile: the metrics listener, http://127.0.0.1:port
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been waited for
}

// startInstances creates the database and starts o.start processes one
// after the other (the first one migrates the schema), each ready before
// the next starts. Their output goes to stderr.
func startInstances(ctx context.Context, o options, stderr io.Writer) (*instances, error) {
	is := &instances{admin: o.dbURL, dbName: "notifybench_" + randomHex(8), bin: o.notifydBin}
	dbURL, err := withDatabase(o.dbURL, is.dbName)
	if err != nil {
		return nil, err
	}
	if err := adminExec(ctx, o.dbURL, "CREATE DATABASE "+is.dbName); err != nil {
		return nil, err
	}
	is.env = instanceEnv(os.Environ(), o, dbURL)
	for i := range o.start {
		in, err := startInstance(ctx, o.notifydBin, is.env, o.profile != "", stderr)
		for attempt := 2; err != nil && attempt <= startAttempts && ctx.Err() == nil; attempt++ {
			fmt.Fprintf(stderr, "warning: start notifyd %d: %v; trying again\n", i+1, err)
			in, err = startInstance(ctx, o.notifydBin, is.env, o.profile != "", stderr)
		}
		if err != nil {
			is.stop(stderr)
			return nil, fmt.Errorf("start notifyd %d: %w", i+1, err)
		}
		is.procs = append(is.procs, in)
		fmt.Fprintf(stderr, "[notifyd] instance %d (pid %d) ready at %s and %s\n", i+1, in.cmd.Process.Pid, in.ep.HTTP, in.ep.WS)
	}
	return is, nil
}

// instanceEnv is the environment of a started instance: the tool's own
// without any NOTIFYD_* variable (a stray one would change what is
// measured), then the settings of the run, then -notifyd-env. In cluster
// mode the instances get cluster.broker (-broker, postgres by default) and
// a cluster.secret drawn here (one call per run: the same for every
// instance); otherwise the default local broker.
func instanceEnv(environ []string, o options, dbURL string) []string {
	var env []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "NOTIFYD_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"NOTIFYD_DATABASE_URL="+dbURL,
		"NOTIFYD_AUTH_API_KEYS="+o.key,
		"NOTIFYD_LOG_LEVEL=warn",
		"NOTIFYD_METRICS_ADDR=off",
		"NOTIFYD_DEMO_TASKS=false",
		// Every bench socket comes from 127.0.0.1, up to 256 dialling at once.
		"NOTIFYD_WS_MAX_UNAUTHENTICATED_PER_ADDRESS=1024",
	)
	if o.clusterOn() {
		broker := o.broker
		if broker == "" {
			broker = "postgres"
		}
		env = append(env, "NOTIFYD_CLUSTER_BROKER="+broker, "NOTIFYD_CLUSTER_SECRET="+rand.Text()+rand.Text())
	}
	return append(env, o.notifydEnv...)
}

// startInstance starts one process on free loopback ports and waits until
// its /readyz answers 200. With profile its metrics listener serves the
// profiler too (metrics.pprof), on a port of its own.
func startInstance(ctx context.Context, bin string, env []string, profile bool, stderr io.Writer) (*instance, error) {
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	wsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpAddr, wsAddr := "127.0.0.1:"+strconv.Itoa(httpPort), "127.0.0.1:"+strconv.Itoa(wsPort)
	var metricsAddr string
	if profile {
		metricsPort, err := freePort()
		if err != nil {
			return nil, err
		}
		metricsAddr = "127.0.0.1:" + strconv.Itoa(metricsPort)
		// After NOTIFYD_METRICS_ADDR=off: the last value of a key wins.
		env = append(slices.Clip(env), "NOTIFYD_METRICS_ADDR="+metricsAddr, "NOTIFYD_METRICS_PPROF=true")
	}
	in, err := launchInstance(ctx, bin, env, endpoint{HTTP: "http://" + httpAddr, WS: "ws://" + wsAddr + "/ws"}, stderr)
	if err == nil && profile {
		in.metrics = "http://" + metricsAddr
	}
	return in, err
}

// launchInstance starts one process listening at ep and waits until its
// /readyz answers 200. A restart after a kill (-fault kill) calls it with
// the endpoint of the killed process, so its clients find it again.
func launchInstance(ctx context.Context, bin string, env []string, ep endpoint, stderr io.Writer) (*instance, error) {
	httpAddr := strings.TrimPrefix(ep.HTTP, "http://")
	wsAddr := strings.TrimSuffix(strings.TrimPrefix(ep.WS, "ws://"), "/ws")
	in := &instance{ep: ep, exited: make(chan struct{})}
	in.cmd = exec.Command(bin, "-config", "/dev/null")
	in.cmd.Env = append(slices.Clip(env), // after -notifyd-env: the ports are the tool's to choose
		"NOTIFYD_HTTP_ADDR="+httpAddr, "NOTIFYD_WS_ADDR="+wsAddr,
		"NOTIFYD_HTTP_PUBLIC_URL="+in.ep.HTTP, "NOTIFYD_WS_PUBLIC_URL="+in.ep.WS)
	in.cmd.Stdout, in.cmd.Stderr = stderr, stderr
	if err := in.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = in.cmd.Wait()
		close(in.exited)
	}()
	if err := in.waitReady(ctx); err != nil {
		in.stop()
		return nil, err
	}
	return in, nil
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before notifyd listens; notifyd then fails to start, and says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls /readyz until it answers 200.
func (in *instance) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, instanceReadyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.ep.HTTP+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-in.exited:
			return fmt.Errorf("exited before it was ready: %s", in.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", instanceReadyTimeout, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGINT (notifyd closes its sockets with 1001 and exits), and
// SIGKILL after instanceStopTimeout.
func (in *instance) stop() error {
	_ = in.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-in.exited:
	case <-time.After(instanceStopTimeout):
		_ = in.cmd.Process.Kill()
		<-in.exited
		return fmt.Errorf("notifyd pid %d killed: still running %s after SIGINT", in.cmd.Process.Pid, instanceStopTimeout)
	}
	if !in.cmd.ProcessState.Success() {
		return fmt.Errorf("notifyd pid %d: %s", in.cmd.Process.Pid, in.cmd.ProcessState)
	}
	return nil
}

// endpoints lists the started instances.
func (is *instances) endpoints() []endpoint {
	eps := make([]endpoint, len(is.procs))
	for i, in := range is.procs {
		eps[i] = in.ep
	}
	return eps
}

// stop stops every instance and drops the database, warning on stderr of
// what went wrong.
func (is *instances) stop(stderr io.Writer) {
	for _, in := range is.procs {
		if err := in.stop(); err != nil {
			fmt.Fprintln(stderr, "warning:", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// FORCE ends connections a killed instance left behind (Postgres 13+).
	if err := adminExec(ctx, is.admin, "DROP DATABASE IF EXISTS "+is.dbName+" WITH (FORCE)"); err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
}

// withDatabase returns dbURL naming the database name instead.
func withDatabase(dbURL, name string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("-db: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// adminExec runs one statement on its own connection to dbURL.
func adminExec(ctx context.Context, dbURL, sql string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect to -db: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
