package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// BenchmarkInsertBatch measures one InsertBatch transaction of n rows,
// one after the other: the latency a group-commit batch costs. Rows go
// round-robin to 1,000 users, as in notifybench; each transaction also
// counts its users' unread rows, which grow as the benchmark runs.
//
//	go test -run '^$' -bench BenchmarkInsertBatch ./store/
func BenchmarkInsertBatch(b *testing.B) {
	for _, n := range []int{1, 16, 100, 256} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			st := storetest.Open(b)
			const users = 1000
			ids := make([]int64, users)
			for i := range ids {
				ids[i] = storetest.User(b, st, fmt.Sprintf("bench%d", i)).ID
			}
			items := make([]notify.NewItem, n)
			for i := range items {
				items[i] = item(ids[i%users], fmt.Sprintf("bench %d", i))
			}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := st.InsertBatch(context.Background(), items, nil, t0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkInsertOneRow measures the group-commit batch of a steady rate
// on Postgres, one notification, through the one-user statement and
// through the general pipeline, round robin over 1,000 users as
// notifybench publishes; "floor" is notifybench's persisted floor in the
// same database: one INSERT into a table of the same shape without users,
// committed. Besides ns/op and allocs/op it reports pg-µs/op, the CPU
// time of the Postgres backends of the benchmark's database per batch
// (from /proc: Postgres must run on this machine), which the box's other
// load inflates less than the wall time. The paths alternate with -count:
//
//	NOTIFYD_TEST_DATABASE_URL=... go test -run '^$' -bench BenchmarkInsertOneRow -benchmem -count 6 ./store/
func BenchmarkInsertOneRow(b *testing.B) {
	if !storetest.Postgres(b) {
		b.Skip("the one-user statement is Postgres only: set " + storetest.EnvDatabaseURL)
	}
	const users = 1000
	paths := []benchPath{{"floor", func(b *testing.B, _ *store.Store, dbURL string) func(i int) error {
		conn := connect(b, dbURL)
		const table = `CREATE TABLE floor (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id BIGINT NOT NULL,
			title TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', style TEXT NOT NULL DEFAULT 'info',
			read BOOLEAN NOT NULL DEFAULT false, created_at TIMESTAMPTZ NOT NULL, read_at TIMESTAMPTZ NULL);
			CREATE INDEX ON floor (user_id, id DESC)`
		if _, err := conn.Exec(context.Background(), table); err != nil {
			b.Fatal(err)
		}
		return func(i int) error {
			var (
				id      int64
				created time.Time
			)
			return conn.QueryRow(context.Background(), `INSERT INTO floor (user_id, title, content, style, created_at)
				VALUES ($1, $2, $3, $4, now()) RETURNING id, created_at`,
				i%users+1, "bench", "c bench", "info").Scan(&id, &created)
		}
	}}}
	for _, path := range insertPaths {
		paths = append(paths, benchPath{path.name, func(_ *testing.B, st *store.Store, _ string) func(i int) error {
			items := make([][]notify.NewItem, users)
			for i := range items {
				items[i] = []notify.NewItem{item(int64(i+1), fmt.Sprintf("bench %d", i))}
			}
			return func(i int) error {
				rows, err := path.insert(st, items[i%users])
				if err == nil && rows[0].ID == 0 {
					err = fmt.Errorf("no row for user %d", i%users+1)
				}
				return err
			}
		}})
	}
	for _, path := range paths {
		b.Run("path="+path.name, func(b *testing.B) {
			cfg := storetest.Config(b)
			st := storetest.OpenConfig(b, cfg)
			admin := connect(b, cfg.URL)
			if _, err := admin.Exec(context.Background(), `INSERT INTO users (username, created_at)
				SELECT 'bench' || g, now() FROM generate_series(1, $1::int) g`, users); err != nil {
				b.Fatal(err)
			}
			insert := path.prepare(b, st, cfg.URL)
			before := backendsCPU(b, admin)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := insert(i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64((backendsCPU(b, admin)-before).Microseconds())/float64(b.N), "pg-µs/op")
		})
	}
}

// benchPath is a way of storing a one-row batch: prepare sets it up on a
// fresh store and database and returns the batch of round i.
type benchPath struct {
	name    string
	prepare func(b *testing.B, st *store.Store, dbURL string) func(i int) error
}

// connect opens a connection of its own to dbURL, closed when tb ends.
func connect(tb testing.TB, dbURL string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// backendsCPU is the CPU time (utime + stime) of the Postgres backends
// connected to conn's database, conn's own excluded, from /proc.
func backendsCPU(tb testing.TB, conn *pgx.Conn) time.Duration {
	tb.Helper()
	rows, err := conn.Query(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		tb.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		tb.Fatal(err)
	}
	var total time.Duration
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			tb.Skipf("Postgres backends not readable on this machine: %v", err)
		}
		// utime and stime are fields 14 and 15, in ticks of 10 ms; the
		// command name before them (in parentheses) may hold spaces.
		f := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
		for _, s := range f[11:13] {
			ticks, err := strconv.ParseInt(string(s), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			total += time.Duration(ticks) * 10 * time.Millisecond
		}
	}
	return total
}
