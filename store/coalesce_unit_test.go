package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// gatedCoalescer returns a coalescer whose queries report their keys on
// started, then wait until gate is closed; key k has the value 10k, but 99
// has no row.
func gatedCoalescer() (c *coalescer[int64, int64], gate chan struct{}, started chan []int64) {
	gate, started = make(chan struct{}), make(chan []int64, 100)
	c = newCoalescer(func(_ context.Context, keys []int64) (map[int64]int64, error) {
		started <- append([]int64(nil), keys...)
		<-gate
		out := map[int64]int64{}
		for _, k := range keys {
			if k != 99 {
				out[k] = 10 * k
			}
		}
		return out, nil
	})
	return c, gate, started
}

// TestCoalescerBatchesWhileBusy: while readFetches queries run, callers
// gather in one batch, read by one query once a slot frees; a key missing
// from the result is not found; a caller that comes after a batch's query
// has started is read by a later query, never answered by the earlier one.
func TestCoalescerBatchesWhileBusy(t *testing.T) {
	c, gate, started := gatedCoalescer()
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make(chan error, 100)
	get := func(k int64) {
		wg.Go(func() {
			v, found, err := c.get(ctx, k)
			switch {
			case err != nil:
				results <- err
			case k == 99 && found:
				results <- errors.New("key 99 found")
			case k != 99 && (!found || v != 10*k):
				results <- errors.New("wrong value")
			}
		})
	}
	// readFetches callers, one after the other: each runs a query alone.
	for k := range int64(readFetches) {
		get(k + 1)
		if got := <-started; len(got) != 1 || got[0] != k+1 {
			t.Fatalf("query %d read %v, want [%d]", k, got, k+1)
		}
	}
	// The slots are taken: these wait in one batch, a key asked twice once.
	for _, k := range []int64{10, 11, 12, 12, 99} {
		get(k)
	}
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.open != nil && len(c.open.keys) == 4
	})
	close(gate)
	got := <-started
	slices.Sort(got) // the callers joined in any order
	if !slices.Equal(got, []int64{10, 11, 12, 99}) {
		t.Fatalf("the waiting callers were read by %v, want one query of [10 11 12 99]", got)
	}
	wg.Wait()
	close(results)
	for err := range results {
		t.Error(err)
	}
	select {
	case got := <-started:
		t.Fatalf("an extra query read %v", got)
	default:
	}
}

// TestCoalescerOneQueryAtOnce: with a query of a kind in flight, the next
// caller waits in a batch instead of starting a second query (readFetches):
// under a burst of connects the reads then share statements, which costs
// Postgres and the server less than one statement per socket.
func TestCoalescerOneQueryAtOnce(t *testing.T) {
	c, gate, started := gatedCoalescer()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(gate)
	wg.Go(func() { _, _, _ = c.get(context.Background(), 1) })
	<-started
	wg.Go(func() { _, _, _ = c.get(context.Background(), 2) })
	// The second caller either starts a query (the test fails) or joins
	// an open batch; poll until one of them has happened.
	for {
		select {
		case got := <-started:
			t.Fatalf("a second query read %v while one was in flight", got)
		default:
		}
		c.mu.Lock()
		waiting := c.open != nil && len(c.open.keys) == 1
		c.mu.Unlock()
		if waiting {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// waitFor polls cond until it holds (a test fails by its own timeout
// otherwise; nothing here measures time).
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// TestPadKeys: a batch is padded to a power of two with its last key, so
// few statement texts are prepared.
func TestPadKeys(t *testing.T) {
	for _, tc := range []struct{ in, want []int64 }{
		{[]int64{1}, []int64{1}},
		{[]int64{1, 2}, []int64{1, 2}},
		{[]int64{1, 2, 3}, []int64{1, 2, 3, 3}},
		{[]int64{1, 2, 3, 4, 5}, []int64{1, 2, 3, 4, 5, 5, 5, 5}},
	} {
		if got := padKeys(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("padKeys(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
