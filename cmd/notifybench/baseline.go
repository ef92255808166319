package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/notifyd/notifyd/client"
)

// runFloor runs the persisted floor in a process of its own and the same
// load against it, through the same client and requests as notifyd.
func (b *bench) runFloor(ctx context.Context) (*targetSummary, error) {
	o := b.opts
	return b.runBaseline(ctx, serveInput{Target: "floor", DB: o.dbURL, Schema: floorSchema(o.prefix), Conns: o.publishers})
}

// runRaw runs the bare fan-out in a process of its own and the same load
// against it: the floor's server without the insert and commit.
func (b *bench) runRaw(ctx context.Context) (*targetSummary, error) {
	return b.runBaseline(ctx, serveInput{Target: "raw"})
}

// runBaseline starts the baseline of in (a -serve child: its own process,
// as notifyd is) and drives it over HTTP with the Go client, as notifyd.
func (b *bench) runBaseline(ctx context.Context, in serveInput) (*targetSummary, error) {
	o := b.opts
	in.Key, in.Users = in.Target+"-"+randomHex(16), o.users
	exe, err := serveExecutable()
	if err != nil {
		return nil, err
	}
	srv, err := startServe(ctx, exe, in, b.stderr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := srv.stop(); err != nil {
			fmt.Fprintln(b.stderr, "warning:", err)
		}
	}()
	c, err := newAPIClient(srv.ready.HTTP, in.Key, o.opTimeout, o.publishers)
	if err != nil {
		return nil, err
	}
	users := rawUsers(o.users)
	ext := make(map[int64]string, len(users))
	for _, u := range users {
		ext[u.ID] = strconv.FormatInt(u.ID, 10)
	}
	procs := childProcesses(o.sockets, o.procs, b.fileLimit)
	probe := &cpuProbe{server: []int{srv.pid()}}
	if in.Target == "floor" {
		probe.dbURL, probe.pgApp = o.dbURL, in.Schema
	}
	return b.runTarget(ctx, in.Target, newAPITarget([]*client.Client{c}, o.keys, ext), []string{srv.ready.WS}, users, procs, srv.pid(), probe, nil, "")
}
