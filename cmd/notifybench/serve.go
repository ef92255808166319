package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// serveStopTimeout bounds a baseline child's closing (its sockets, the
// floor's schema) before it is killed.
const serveStopTimeout = 40 * time.Second

// serveInput is what the parent writes to a -serve child's stdin: which
// baseline to run. The child serves until its stdin ends.
type serveInput struct {
	Target string `json:"target"` // "raw" (the bare fan-out) or "floor"
	Key    string `json:"key"`    // the publisher key of the requests
	Users  int    `json:"users"`  // users 1..Users
	DB     string `json:"db,omitempty"`
	Schema string `json:"schema,omitempty"` // the floor's scratch schema
	Conns  int    `json:"conns,omitempty"`  // the floor's pool size
}

// serveReady is the child's one line on stdout: where it serves, or why it
// could not start.
type serveReady struct {
	HTTP  string `json:"http,omitempty"`
	WS    string `json:"ws,omitempty"`
	Error string `json:"error,omitempty"`
}

// runServe is the -serve mode: a baseline server in a process of its own,
// as notifyd is, driven by the same client over HTTP. It reads its
// serveInput from stdin, answers serveReady on stdout, and closes when
// stdin ends (the parent is done or died) or ctx does.
func runServe(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	dec := json.NewDecoder(stdin)
	var in serveInput
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("serve: read input: %w", err)
	}
	b, err := startServed(ctx, in)
	enc := json.NewEncoder(stdout)
	if err != nil {
		_ = enc.Encode(serveReady{Error: err.Error()})
		return err
	}
	if err := enc.Encode(serveReady{HTTP: b.url(), WS: b.sockets.url()}); err != nil {
		_ = b.close()
		return fmt.Errorf("serve: report: %w", err)
	}
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, io.MultiReader(dec.Buffered(), stdin))
		close(ended)
	}()
	select {
	case <-ended:
	case <-ctx.Done():
	}
	return b.close()
}

// startServed starts the baseline in names.
func startServed(ctx context.Context, in serveInput) (*baseline, error) {
	switch in.Target {
	case "raw":
		return startBaseline(in.Key, in.Users, &counterStore{}, nil)
	case "floor":
		f, err := openFloor(ctx, floorConfig{dbURL: in.DB, schema: in.Schema, conns: in.Conns})
		if err != nil {
			return nil, err
		}
		b, err := startBaseline(in.Key, in.Users, f, f)
		if err != nil {
			_ = f.close()
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("serve: unknown target %q", in.Target)
}

// served is a baseline child process seen from the parent.
type served struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	ready  serveReady
	exited chan struct{} // closed once the process has been waited for
}

// startServe runs exe -serve with in and waits for its serveReady. The
// child's stderr is stderr.
func startServe(ctx context.Context, exe string, in serveInput, stderr io.Writer) (*served, error) {
	cmd := exec.Command(exe, "-serve")
	cmd.Stderr = stderr
	stdin, stdout, err := startPiped(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", in.Target, err)
	}
	s := &served{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	lines := make(chan []byte, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Bytes()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := json.NewEncoder(stdin).Encode(in); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("%s: send input: %w", in.Target, err)
	}
	select {
	case line, ok := <-lines:
		if ok && json.Unmarshal(line, &s.ready) == nil && s.ready.Error == "" && s.ready.HTTP != "" {
			return s, nil
		}
		_ = s.stop()
		if s.ready.Error != "" {
			return nil, errors.New(s.ready.Error)
		}
		return nil, fmt.Errorf("%s: the server process did not start (%s)", in.Target, cmd.ProcessState)
	case <-ctx.Done():
		_ = s.stop()
		return nil, ctx.Err()
	}
}

// pid is the child's process id.
func (s *served) pid() int { return s.cmd.Process.Pid }

// stop ends the child's stdin (it closes and exits) and waits, killing it
// after serveStopTimeout.
func (s *served) stop() error {
	_ = s.stdin.Close()
	select {
	case <-s.exited:
	case <-time.After(serveStopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("baseline pid %d killed: still running %s after its input ended", s.pid(), serveStopTimeout)
	}
	if !s.cmd.ProcessState.Success() {
		return fmt.Errorf("baseline pid %d: %s", s.pid(), s.cmd.ProcessState)
	}
	return nil
}

// serveExecutable is this program, which the baseline children run.
func serveExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this program for the baseline process: %w", err)
	}
	return exe, nil
}
