package store

import (
	"context"
	"sync"
)

// Reads by key that many sockets make at once — the session of an auth
// message, the position of a hello — are coalesced: while readFetches
// queries of one kind are in flight, the callers that come meanwhile join
// one batch, read by the next query with `IN (…)`. A burst of 5,000
// connects then costs Postgres a few hundred statements instead of 10,000,
// and the sockets no longer queue for the 20 pooled connections one round
// trip each (issue 11: they waited there 70 % of their connect time). An
// idle server is unchanged: a lone caller finds a free slot and runs its
// query at once, alone.
const (
	// readFetches is how many queries of one kind run at once; more
	// batches form while they are busy. One: a batch forms only while
	// every slot is taken, and with four a burst of 5,000 connects still
	// read mostly one socket per statement, each costing Postgres about
	// as much as a batch of several (issue 11, "connect": Postgres CPU per
	// connect 45 → 30 µs). A slow statement holds up the connects that
	// come meanwhile for its length (at most database.query_timeout), as
	// four slow ones did before.
	readFetches = 1
	// readBatchKeys caps one batch: a longer IN list takes longer than
	// the next round trip. A power of two: see padKeys.
	readBatchKeys = 256
)

// coalescer gathers concurrent reads of single keys into batches. A
// caller joins only a batch whose query has not started yet, so every
// read starts after its call: a session revoked before Authenticate is
// never found, a position read after Register is read after it.
type coalescer[K comparable, V any] struct {
	// fetch reads keys and returns the values found; a missing key is
	// absent from the map. keys may repeat (padKeys). It runs on a
	// context of its own (see run), applies the store's query timeout
	// and translates its errors.
	fetch func(ctx context.Context, keys []K) (map[K]V, error)
	slots chan struct{} // a token per fetch in flight

	mu   sync.Mutex
	open *readBatch[K, V] // gathering keys; nil when none
}

// readBatch is one query's keys and, once done is closed, its result.
type readBatch[K comparable, V any] struct {
	keys []K
	seen map[K]struct{}
	done chan struct{}
	vals map[K]V
	err  error
}

func newCoalescer[K comparable, V any](fetch func(context.Context, []K) (map[K]V, error)) *coalescer[K, V] {
	return &coalescer[K, V]{fetch: fetch, slots: make(chan struct{}, readFetches)}
}

// get reads key, alone or with the keys of concurrent callers. found is
// false when the key has no row. A caller whose ctx ends while its batch
// runs returns ctx's error; the batch goes on for the others.
func (c *coalescer[K, V]) get(ctx context.Context, key K) (v V, found bool, err error) {
	if c.takeIdleSlot() {
		return c.alone(ctx, key)
	}
	b, lead := c.join(key)
	if lead {
		c.run(ctx, b)
	} else {
		select {
		case <-b.done:
		case <-ctx.Done():
			return v, false, ctx.Err()
		}
	}
	if b.err != nil {
		return v, false, b.err
	}
	v, found = b.vals[key]
	return v, found, nil
}

// takeIdleSlot takes a slot when one is free and no batch is gathering:
// the caller then reads its key alone, at once, without a batch (see
// alone). With a batch gathering, the caller joins it instead, so that
// it does not overtake the callers already waiting.
func (c *coalescer[K, V]) takeIdleSlot() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open != nil {
		return false
	}
	select {
	case c.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// alone reads key by a query of its own, in the slot takeIdleSlot took:
// what a batch of one does, without the batch's key set, result channel
// and shared state (an idle server's every connect comes here).
func (c *coalescer[K, V]) alone(ctx context.Context, key K) (v V, found bool, err error) {
	defer func() { <-c.slots }()
	vals, err := c.fetch(context.WithoutCancel(ctx), []K{key})
	if err != nil {
		return v, false, err
	}
	v, found = vals[key]
	return v, found, nil
}

// join adds key to the open batch, opening one (lead) when there is none.
func (c *coalescer[K, V]) join(key K) (b *readBatch[K, V], lead bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b = c.open
	if b == nil {
		b = &readBatch[K, V]{seen: make(map[K]struct{}), done: make(chan struct{})}
		c.open, lead = b, true
	}
	if _, dup := b.seen[key]; !dup {
		b.seen[key] = struct{}{}
		b.keys = append(b.keys, key)
	}
	if len(b.keys) >= readBatchKeys {
		c.open = nil // full: the next caller opens another
	}
	return b, lead
}

// run waits for a slot, closes the batch to newcomers and reads it. The
// wait is not cut short by the leader's ctx: the batch is the followers'
// too, and each slot is held for at most one query's timeout. The query
// runs without the leader's cancellation, for the same reason; fetch
// bounds it with the store's query timeout.
func (c *coalescer[K, V]) run(ctx context.Context, b *readBatch[K, V]) {
	defer close(b.done)
	c.slots <- struct{}{}
	defer func() { <-c.slots }()
	c.mu.Lock()
	if c.open == b {
		c.open = nil
	}
	c.mu.Unlock()
	b.vals, b.err = c.fetch(context.WithoutCancel(ctx), padKeys(b.keys))
}

// padKeys repeats the last key up to the next power of two. pgx prepares
// each new statement text once per pooled connection, a round trip of its
// own, and an IN list of n keys is a text per n: padded, a burst uses 9
// texts of each query instead of up to 256.
func padKeys[K any](keys []K) []K {
	n := 1
	for n < len(keys) {
		n *= 2
	}
	for len(keys) < n {
		keys = append(keys, keys[len(keys)-1])
	}
	return keys
}
