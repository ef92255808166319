package main

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// maxBulkUsers is the most user_ids notifyd takes in one bulk request.
const maxBulkUsers = 1000

// target is where publishers send notifications: notifyd or a baseline,
// over HTTP (apiTarget). Both methods return how many notifications were
// created.
type target interface {
	publishOne(ctx context.Context, userID int64, content string) (int, error)
	publishMany(ctx context.Context, userIDs []int64, content string) (int, error)
}

// publisher drives the load: workers take users round-robin, stamp the
// publish time in the content and count what was sent and expected back.
type publisher struct {
	target  target
	users   []int64
	perUser map[int64]int // connected sockets per user: frames owed per notification
	batch   int           // 0: one notification per request; else user_ids per request
	limiter *rate.Limiter // nil: as fast as possible

	cursor   atomic.Int64 // round-robin position in users
	seq      atomic.Int64
	requests atomic.Int64
	failed   atomic.Int64
	created  atomic.Int64 // notifications the target accepted (persisted, for notifyd)
	expected atomic.Int64 // frames the sockets should receive
	rounds   atomic.Int64 // fan-out rounds
	reqLat   histogram    // request round trip

	mu     sync.Mutex
	errors map[string]int64
}

func newPublisher(t target, users []int64, perUser map[int64]int, batch int, perSecond float64) *publisher {
	p := &publisher{target: t, users: users, perUser: perUser, batch: batch, errors: map[string]int64{}}
	if perSecond > 0 {
		// A burst of 10 ms worth of notifications (at least one request)
		// lets the pacer make up for a publisher woken late on a busy box,
		// without the bursts that would skew the latency; a real shortfall
		// still shows in the measured rate.
		p.limiter = rate.NewLimiter(rate.Limit(perSecond), max(batch, 1, int(perSecond/100)))
	}
	return p
}

// run publishes with n workers for d and returns the time it took, in-flight
// requests included. Requests themselves run on ctx, so the ones in flight
// when d ends still complete and count.
func (p *publisher) run(ctx context.Context, n int, d time.Duration) time.Duration {
	start := time.Now()
	deadline := start.Add(d)
	pace, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for pace.Err() == nil {
				if p.limiter != nil && p.limiter.WaitN(pace, max(p.batch, 1)) != nil {
					return
				}
				p.once(ctx)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// once sends one request to the next user (or the next batch of users).
func (p *publisher) once(ctx context.Context) {
	k := max(p.batch, 1)
	first := p.cursor.Add(int64(k)) - int64(k)
	ids := make([]int64, k)
	for i := range ids {
		ids[i] = p.users[(first+int64(i))%int64(len(p.users))]
	}
	p.send(ctx, ids)
}

// send publishes one stamped notification to ids and does the accounting.
func (p *publisher) send(ctx context.Context, ids []int64) {
	content := contentPrefix + strconv.FormatInt(time.Now().UnixNano(), 10) + " seq=" + strconv.FormatInt(p.seq.Add(1), 10)
	start := time.Now()
	var n int
	var err error
	if p.batch == 0 && len(ids) == 1 {
		n, err = p.target.publishOne(ctx, ids[0], content)
	} else {
		n, err = p.target.publishMany(ctx, ids, content)
	}
	p.reqLat.record(time.Since(start))
	p.requests.Add(1)
	if err != nil {
		p.failed.Add(1)
		p.mu.Lock()
		p.errors[errorKind(err)]++
		p.mu.Unlock()
		return
	}
	p.created.Add(int64(n))
	frames := 0
	for _, id := range ids {
		frames += p.perUser[id]
	}
	p.expected.Add(int64(frames))
}

// fanout sends rounds of one bulk request to every user (split in chunks of
// maxBulkUsers, sent together) for d. Each round waits until all its frames
// arrived (or roundTimeout) and a short pause, so rounds do not overlap and
// each frame's latency is the time to reach that recipient.
func (p *publisher) fanout(ctx context.Context, delivered func() int64, d time.Duration) time.Duration {
	const roundTimeout, pause = 5 * time.Second, 100 * time.Millisecond
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		var wg sync.WaitGroup
		for lo := 0; lo < len(p.users); lo += maxBulkUsers {
			chunk := p.users[lo:min(lo+maxBulkUsers, len(p.users))]
			wg.Go(func() { p.send(ctx, chunk) })
		}
		wg.Wait()
		p.rounds.Add(1)
		waitDelivered(ctx, delivered, p.expected.Load(), roundTimeout, roundTimeout)
		sleep(ctx, pause)
	}
	return time.Since(start)
}

// waitDelivered waits until delivered() reaches want, or nothing arrived for
// stall, or limit passed. It returns how long it waited.
func waitDelivered(ctx context.Context, delivered func() int64, want int64, stall, limit time.Duration) time.Duration {
	start := time.Now()
	last, lastChange := delivered(), start
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for last < want {
		select {
		case <-ctx.Done():
			return time.Since(start)
		case now := <-t.C:
			if d := delivered(); d != last {
				last, lastChange = d, now
			}
			if now.Sub(lastChange) > stall || now.Sub(start) > limit {
				return time.Since(start)
			}
		}
	}
	return time.Since(start)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// errorCounts copies the error counts.
func (p *publisher) errorCounts() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.errors)
}
