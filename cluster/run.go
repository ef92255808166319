package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/notify"
)

// lagReport is how often the delivery lag is recorded (and logged while
// there is one).
const lagReport = time.Second

// Run listens until ctx is done or Close is called, then returns nil. The
// loop is: connect → LISTEN → catch up → receive doorbells; when the
// connection fails it waits (100 ms, doubling up to 5 s) and starts over.
// LISTEN comes before the catch-up, so every commit is either in the
// catch-up's reads or rings a doorbell on the new connection: nothing is
// missed, and the sockets drop what they already have. Beside it run the
// sender of this instance's doorbells, the read-back of the others'
// (deliver.go) and the receiver's repairs and audit.
func (l *Listener) Run(ctx context.Context) error {
	if !l.running.Enter() {
		return nil
	}
	defer l.running.Leave()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(l.base, cancel)
	defer stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // first: the helpers stop before Run waits for them
	wg.Go(func() { l.send(ctx) })
	wg.Go(func() { l.resolve(ctx) })
	wg.Go(func() { l.receiver.Run(ctx) })
	wg.Go(func() { notify.ReportLag(ctx, lagReport, l.Lag, l.logger, l.deps.Metrics) })

	backoff := l.cfg.MinBackoff
	first, connected := true, false
	for ctx.Err() == nil {
		if !first {
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, l.cfg.MaxBackoff)
		}
		first = false
		conn, err := l.connect(ctx)
		if err != nil {
			if ctx.Err() == nil {
				l.logger.Warn("cluster: listener cannot connect", "error", err, "retry_in", backoff)
			}
			continue
		}
		if connected {
			l.deps.Metrics.ListenerReconnected()
		}
		connected = true
		if l.catchUpUntilDone(ctx) {
			l.setHealthy(true)
			backoff = l.cfg.MinBackoff
			l.logger.Info("cluster: listening", "channel", Channel)
			err = l.serve(ctx, conn)
		}
		l.setHealthy(false)
		closeConn(conn)
		if ctx.Err() != nil {
			break
		}
		l.logger.Warn("cluster: listener connection lost", "error", err, "retry_in", backoff)
	}
	return nil
}

// connect opens the dedicated connection and LISTENs on it.
func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, l.connCfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("cluster: listen: %w", err)
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// serve receives doorbells until the connection fails or ctx is done. It
// only verifies and queues them (deliver.go): the read-back runs on its
// own goroutine, so a slow read never holds up the next doorbell.
func (l *Listener) serve(ctx context.Context, conn *pgx.Conn) error {
	for {
		l.maybeSweep(ctx)
		wctx, cancel := context.WithTimeout(ctx, l.cfg.IdleCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if wctx.Err() == nil || conn.IsClosed() {
				return fmt.Errorf("cluster: wait: %w", err)
			}
			// Silent for IdleCheck: make sure the connection still answers.
			pctx, cancel := context.WithTimeout(ctx, l.cfg.IdleCheck)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("cluster: ping: %w", err)
			}
			continue
		}
		l.receive(n.Payload)
	}
}

// catchUpUntilDone retries the catch-up with backoff until it succeeds
// (true) or ctx is done (false).
func (l *Listener) catchUpUntilDone(ctx context.Context) bool {
	backoff := l.cfg.MinBackoff
	for {
		err := l.receiver.CatchUpAll(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		l.logger.Warn("cluster: catch-up failed", "error", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, l.cfg.MaxBackoff)
	}
}

// maybeSweep deletes expired stored events, every eventTTL/2. A failure
// is only logged: the next sweep deletes them.
func (l *Listener) maybeSweep(ctx context.Context) {
	now := l.now()
	if now.Sub(l.lastSweep) < eventTTL/2 {
		return
	}
	l.lastSweep = now
	n, err := l.deps.Store.SweepClusterEvents(ctx, now.Add(-eventTTL))
	if err != nil {
		l.logger.Warn("cluster: sweep events", "error", err)
		return
	}
	if n > 0 {
		l.logger.Debug("cluster: swept events", "deleted", n)
	}
}
