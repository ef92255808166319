package store

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres keeps a generic plan for a statement prepared on a connection
// after its first five calls, made from the statistics of the tables it
// reads, until those statistics change. The connect reads
// (connect_reads_pg.go) are prepared that way, once per pooled
// connection. Autovacuum analyzes a fresh deployment's users, sessions and
// notifications while they hold a few rows (50 changed rows, checked once
// a minute), and a generic plan made on those statistics is a sequential
// scan of each table: it stays one while the tables grow under a connect
// storm, until autovacuum analyzes them again a minute or more later, and
// every connect reads every row (TestConnectReadsAfterTheTablesGrew).
//
// So the store analyzes those tables itself once one has outgrown its
// statistics (outgrown): the ANALYZE makes every connection of every
// instance plan its statements on them again, for the tables as they are.
// The comparison is one catalog query, made at most once a second
// (growthCheckEvery) and only while connect reads are made; the ANALYZE
// comes once per doubling of a table at most. Planning each read on every
// call instead (an unnamed statement, as the read-back is) made a lone
// read 3-4.5 times as long and cost Postgres 38 -> 58 µs of CPU per socket
// of a connect burst (BENCHMARKS.md, "Connect reads after the tables
// grew").
const (
	// growthCheckEvery is how often at most the store compares the tables'
	// sizes with their statistics: how long a plan made on outgrown
	// statistics can last at most, beyond its table's doubling.
	growthCheckEvery = time.Second
	// growthMinPages is the size, in pages of 8 KiB, from which a table
	// is analyzed for its growth: 64 (512 KiB, about 5,000 users or
	// sessions). A sequential scan of a smaller table costs Postgres
	// about 0.3 ms, and each ANALYZE makes every connection plan its
	// statements on the table again: with 8, a 5,000-socket burst over
	// 2,500 new users paid that at its start (BENCHMARKS.md).
	growthMinPages = 64
)

// tableSizesSQL returns the size of each table of the connect reads, as
// its statistics have it (relpages: 0 when never analyzed) and as it is.
const tableSizesSQL = `SELECT c.relname::text, c.relpages::bigint,
	pg_relation_size(c.oid) / current_setting('block_size')::bigint
FROM pg_class c
WHERE c.oid IN ('users'::regclass, 'sessions'::regclass, 'notifications'::regclass)`

// outgrown reports whether a table of pages pages, with statistics taken
// at statsPages (0 when never analyzed) and last analyzed by the store at
// analyzedPages, is to be analyzed: it has at least doubled since both,
// and is past growthMinPages.
func outgrown(pages, statsPages, analyzedPages int64) bool {
	return pages >= growthMinPages && pages >= 2*max(statsPages, analyzedPages)
}

// growthWatch holds the state of the growth checks (watchGrowth).
type growthWatch struct {
	ctx    context.Context // the checks', ended by close
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool      // Close was called: no more checks
	running bool      // a check is in flight
	next    time.Time // no check before
	wg      sync.WaitGroup

	// analyzed holds each table's size in pages when the store last
	// analyzed it. Only the check in flight uses it.
	analyzed map[string]int64
}

// watchGrowth starts a check of the tables' growth (analyzeOutgrown) in
// the background when none is in flight and the last started at least
// growthCheckEvery ago. It returns at once.
func (s *Store) watchGrowth() {
	w := s.growth
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.running || now.Before(w.next) {
		return
	}
	w.running, w.next = true, now.Add(growthCheckEvery)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		// A failure is counted (translate) and the check made again on
		// the next read a second later; one ended by close is not a
		// failure.
		if err := s.analyzeOutgrown(w.ctx); err != nil && w.ctx.Err() == nil {
			_ = s.translate(w.ctx, "analyze grown tables", err)
		}
		w.mu.Lock()
		w.running = false
		w.mu.Unlock()
	}()
}

// newGrowthWatch returns the state of the growth checks, none made yet.
func newGrowthWatch() *growthWatch {
	ctx, cancel := context.WithCancel(context.Background())
	return &growthWatch{ctx: ctx, cancel: cancel, analyzed: make(map[string]int64)}
}

// close stops the checks, ends the one in flight and waits for it.
func (w *growthWatch) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
}

// analyzeOutgrown analyzes the tables of the connect reads that have
// outgrown their statistics (outgrown), without waiting for a table that
// autovacuum is analyzing already (SKIP_LOCKED).
func (s *Store) analyzeOutgrown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.withPgx(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, tableSizesSQL)
		if err != nil {
			return err
		}
		var (
			name         string
			stats, pages int64
			grown        []string
		)
		_, err = pgx.ForEachRow(rows, []any{&name, &stats, &pages}, func() error {
			if outgrown(pages, stats, s.growth.analyzed[name]) {
				grown = append(grown, pgx.Identifier{name}.Sanitize())
				// Recorded before the ANALYZE: one that fails (a
				// timeout on a large table, a role that does not own
				// it) is not tried again before the next doubling.
				s.growth.analyzed[name] = pages
			}
			return nil
		})
		if err != nil || len(grown) == 0 {
			return err
		}
		_, err = c.Exec(ctx, "ANALYZE (SKIP_LOCKED) "+strings.Join(grown, ", "))
		return err
	})
}
