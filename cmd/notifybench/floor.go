package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// floorStore is the store of the persisted floor: the least a server that
// persists before it pushes must do for one publish. It inserts one row
// with pgx in its own transaction (one round trip; the commit is as
// durable as notifyd's). Nothing else: no users table, no unread count, no
// group commit. Its connections carry application_name = the schema, so
// the run can find their backends (postgresBackends).
type floorStore struct {
	pool   *pgxpool.Pool
	schema string // scratch schema holding the one table, dropped on close
	insert string
}

// floorConfig is what the floor needs: where to persist and the pool size.
type floorConfig struct {
	dbURL  string
	schema string
	conns  int // the publishers: the same concurrency as notifyd gets
}

// openFloor creates the scratch schema and opens the pool, every
// connection opened now, so no request pays for one.
func openFloor(ctx context.Context, cfg floorConfig) (*floorStore, error) {
	pc, err := pgxpool.ParseConfig(cfg.dbURL)
	if err != nil {
		return nil, fmt.Errorf("floor: -db: %w", err)
	}
	pc.MaxConns, pc.MinConns = int32(cfg.conns), int32(cfg.conns)
	pc.ConnConfig.RuntimeParams["application_name"] = cfg.schema
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	f := &floorStore{pool: pool, schema: cfg.schema}
	table := pgx.Identifier{cfg.schema, "notifications"}.Sanitize()
	f.insert = "INSERT INTO " + table + " (user_id, title, content, style, created_at) VALUES ($1, $2, $3, $4, now()) RETURNING id, created_at"
	if err := f.createSchema(ctx, table); err != nil {
		pool.Close()
		return nil, err
	}
	if err := warmPool(ctx, pool, cfg.conns); err != nil {
		_ = f.close()
		return nil, err
	}
	return f, nil
}

// add inserts n for user and commits, setting its id and time.
func (f *floorStore) add(ctx context.Context, user int64, n *rawNotificationBody) error {
	return f.pool.QueryRow(ctx, f.insert, user, n.Title, n.Content, n.Style).Scan(&n.ID, &n.CreatedAt)
}

// createSchema makes the scratch schema and the one table, shaped like
// notifyd's notifications with the one index a user's inbox needs.
func (f *floorStore) createSchema(ctx context.Context, table string) error {
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

// close drops the scratch schema and closes the pool.
func (f *floorStore) close() error {
	err := f.dropSchema()
	f.pool.Close()
	return err
}

// dropSchema drops the scratch schema, even after an interrupt.
func (f *floorStore) dropSchema() error {
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
