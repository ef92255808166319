package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// natsReadyTimeout bounds the wait for a started nats-server to accept
// connections.
const natsReadyTimeout = 10 * time.Second

// natsServer is a nats-server of the run's own on a free loopback port
// (-fault natsrestart): the tool stops and starts it, which it must never
// do to a server other work shares.
type natsServer struct {
	bin    string
	addr   string // 127.0.0.1:port, the same across restarts
	stderr io.Writer
	cmd    *exec.Cmd
}

// startNATSServer finds the nats-server binary (PATH, then the Debian
// package's /usr/sbin/nats-server) and starts it on a free port.
func startNATSServer(ctx context.Context, stderr io.Writer) (*natsServer, error) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("-fault natsrestart: nats-server not found on PATH nor at %s", bin)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &natsServer{bin: bin, addr: "127.0.0.1:" + strconv.Itoa(port), stderr: stderr}
	return s, s.start(ctx)
}

// url is the client URL of the server.
func (s *natsServer) url() string { return "nats://" + s.addr }

// start runs the server (again) on its port and waits until it accepts.
func (s *natsServer) start(ctx context.Context) error {
	_, port, _ := net.SplitHostPort(s.addr)
	cmd := exec.Command(s.bin, "-a", "127.0.0.1", "-p", port)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard // its log says nothing the report needs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start nats-server: %w", err)
	}
	s.cmd = cmd
	ctx, cancel := context.WithTimeout(ctx, natsReadyTimeout)
	defer cancel()
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", s.addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			s.stop()
			return fmt.Errorf("nats-server on %s does not accept connections: %w", s.addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop kills the server (SIGKILL: its clients see the connection drop
// without a goodbye, as in a crash) and waits for it. Safe to call twice.
func (s *natsServer) stop() {
	if cmd := s.cmd; cmd != nil {
		s.cmd = nil
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // its exit status is the kill's
	}
}
