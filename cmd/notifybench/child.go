package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// childInterval is how often a child reports its measurements.
const childInterval = 100 * time.Millisecond

// childCloseTimeout bounds a child's closing of its sockets.
const childCloseTimeout = 30 * time.Second

// childInput is what the parent writes to a child's stdin: the sockets to
// open. The child then holds them until its stdin ends.
type childInput struct {
	WS          string        `json:"ws"`
	Timeout     time.Duration `json:"timeout"`
	ConnectRate float64       `json:"connect_rate"`
	Sockets     []socketSpec  `json:"sockets"`
}

// child is one child process holding a share of the sockets.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when its stdout ends and the process exited

	mu   sync.Mutex
	last fleetStats
}

// startChild runs this program with -child and hands it its sockets.
func startChild(ctx context.Context, exe string, in childInput, stderr io.Writer) (*child, error) {
	cmd := exec.CommandContext(ctx, exe, "-child")
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	// On cancellation, give the child the time to close its sockets (it
	// sees its own SIGINT, or its stdin end) before it is killed.
	cmd.WaitDelay = childCloseTimeout + 5*time.Second
	stdin, stdout, err := startPiped(cmd)
	if err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, done: make(chan struct{}), last: fleetStats{}}
	go c.readReports(stdout)
	if err := json.NewEncoder(stdin).Encode(in); err != nil {
		c.closeInput()
		c.wait(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("send sockets: %w", err)
	}
	return c, nil
}

// startPiped starts cmd with pipes to its stdin and from its stdout: the
// protocol of every child of the tool (-child, -serve).
func startPiped(cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return stdin, stdout, nil
}

// readReports keeps the latest report of the child until its stdout ends.
// A child that dies is reported as done with an error, so the parent never
// waits for it.
func (c *child) readReports(stdout io.Reader) {
	defer close(c.done)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	final := false
	for sc.Scan() {
		var s fleetStats
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			continue
		}
		final = s.Final
		c.mu.Lock()
		c.last = s
		c.mu.Unlock()
	}
	err := c.cmd.Wait()
	if final && err == nil {
		return
	}
	c.mu.Lock()
	c.last.ConnectDone = true
	c.last.Error = joinErrors(c.last.Error, fmt.Sprintf("child %d ended early: %v", c.cmd.Process.Pid, err))
	c.mu.Unlock()
}

func (c *child) stats() fleetStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *child) delivered() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last.Delivered
}

// closeInput ends the child's stdin: its signal to close the sockets.
func (c *child) closeInput() { c.stdin.Close() }

// wait waits for the final report, killing the child if ctx ends first.
func (c *child) wait(ctx context.Context) {
	select {
	case <-c.done:
	case <-ctx.Done():
		c.cmd.Process.Kill()
		<-c.done
	}
}

// runChild is the -child mode: read the sockets from stdin, open them,
// report the measurements on stdout every childInterval, and close them
// when stdin ends (or ctx does) with one last report marked final.
func runChild(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	dec := json.NewDecoder(stdin)
	var in childInput
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("child: read input: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The parent closes our stdin when it is done, or dies.
		_, _ = io.Copy(io.Discard, io.MultiReader(dec.Buffered(), stdin))
		cancel()
	}()

	g := newGroup(in.WS, in.Timeout, false)
	connected := make(chan struct{})
	go func() {
		defer close(connected)
		g.connect(ctx, in.Sockets, in.ConnectRate)
	}()

	enc := json.NewEncoder(stdout)
	t := time.NewTicker(childInterval)
	defer t.Stop()
	connecting := connected
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-connecting:
			connecting = nil // report the end of connecting at once, once
		}
		if err := enc.Encode(g.stats()); err != nil {
			return fmt.Errorf("child: report: %w", err)
		}
	}
	<-connected
	closeCtx, cancelClose := context.WithTimeout(context.WithoutCancel(ctx), childCloseTimeout)
	defer cancelClose()
	g.close(closeCtx)
	final := g.stats()
	final.Final = true
	if err := enc.Encode(final); err != nil {
		return fmt.Errorf("child: report: %w", err)
	}
	return nil
}
