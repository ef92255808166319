package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// floorServer is the persisted floor: the least a server that persists
// before it pushes must do for one publish. It takes the same HTTP request
// as notifyd's single publish in a bare net/http handler, inserts one row
// with pgx in its own transaction (one round trip; the commit is as durable
// as notifyd's), then pushes the frame to the user's sockets through the raw
// baseline's fan-out, so the socket side is the raw baseline's exactly.
// Nothing else: no users table, no unread count, no hub design, no logs.
type floorServer struct {
	raw    *rawServer
	pool   *pgxpool.Pool
	schema string // scratch schema holding the one table, dropped on close
	key    string // the publisher key the requests must carry
	insert string
	ln     net.Listener
	srv    *http.Server
	// locks holds one mutex per user, taken from the insert to the push:
	// frames of one user then leave in id order, as notifyd guarantees
	// (it holds the user's row lock). Read-only after start.
	locks map[int64]*sync.Mutex
}

// floorConfig is what the floor needs: where to persist, the key of the
// requests, the users 1..users (see rawUsers) and the pool size.
type floorConfig struct {
	dbURL  string
	schema string
	key    string
	users  int
	conns  int // the publishers: the same concurrency as notifyd gets
}

// startFloor creates the scratch schema, opens the pool (every connection
// opened now, so no request pays for one) and starts serving.
func startFloor(ctx context.Context, cfg floorConfig) (*floorServer, error) {
	pc, err := pgxpool.ParseConfig(cfg.dbURL)
	if err != nil {
		return nil, fmt.Errorf("floor: -db: %w", err)
	}
	pc.MaxConns, pc.MinConns = int32(cfg.conns), int32(cfg.conns)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	f := &floorServer{pool: pool, schema: cfg.schema, key: cfg.key, locks: make(map[int64]*sync.Mutex, cfg.users)}
	for i := range cfg.users {
		f.locks[int64(i+1)] = &sync.Mutex{}
	}
	table := pgx.Identifier{cfg.schema, "notifications"}.Sanitize()
	f.insert = "INSERT INTO " + table + " (user_id, title, content, style, created_at) VALUES ($1, $2, $3, $4, now()) RETURNING id, created_at"
	if err := f.createSchema(ctx, table); err != nil {
		pool.Close()
		return nil, err
	}
	if err := warmPool(ctx, pool, cfg.conns); err != nil {
		f.dropSchema()
		pool.Close()
		return nil, err
	}
	// Not blocking: like notifyd, the floor closes a socket whose queue is
	// full; its HTTP round trip paces it, unlike raw's direct call.
	if f.raw, err = startRawServer(false); err != nil {
		f.dropSchema()
		pool.Close()
		return nil, err
	}
	if f.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		f.raw.close()
		f.dropSchema()
		pool.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/publisher/users/{ext}/notifications", f.publish)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(f.ln) }() // returns ErrServerClosed on close
	return f, nil
}

// createSchema makes the scratch schema and the one table, shaped like
// notifyd's notifications with the one index a user's inbox needs.
func (f *floorServer) createSchema(ctx context.Context, table string) error {
	schema := pgx.Identifier{f.schema}.Sanitize()
	_, err := f.pool.Exec(ctx, "CREATE SCHEMA "+schema+";"+
		"CREATE TABLE "+table+" (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id BIGINT NOT NULL,"+
		" title TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', style TEXT NOT NULL DEFAULT 'info',"+
		" read BOOLEAN NOT NULL DEFAULT false, created_at TIMESTAMPTZ NOT NULL, read_at TIMESTAMPTZ NULL);"+
		"CREATE INDEX ON "+table+" (user_id, id DESC)")
	if err != nil {
		return fmt.Errorf("floor: create schema %s: %w", f.schema, err)
	}
	return nil
}

// warmPool holds n connections at once, so the pool has opened them all.
func warmPool(ctx context.Context, pool *pgxpool.Pool, n int) error {
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("floor: connect: %w", err)
		}
		conns = append(conns, c)
	}
	return nil
}

// url is the base URL of the floor's publisher API.
func (f *floorServer) url() string { return "http://" + f.ln.Addr().String() }

// close stops serving, ends the sockets and drops the scratch schema.
func (f *floorServer) close() error {
	_ = f.srv.Close()
	f.raw.close()
	err := f.dropSchema()
	f.pool.Close()
	return err
}

// dropSchema drops the scratch schema, even after an interrupt.
func (f *floorServer) dropSchema() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := f.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{f.schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("floor: drop schema %s: %w", f.schema, err)
	}
	return nil
}

// floorSchema is the scratch schema of a run: its prefix, lower-cased,
// with every other character than [a-z0-9_] made "_", within Postgres's
// 63 bytes of a name.
func floorSchema(prefix string) string {
	b := []byte("notifybench_floor_" + strings.ToLower(prefix))
	b = b[:min(len(b), 63)]
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			b[i] = '_'
		}
	}
	return string(b)
}
