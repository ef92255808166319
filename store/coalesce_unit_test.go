package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestCoalescerBatchesWhileBusy: while readFetches queries run, callers
// gather in one batch, read by one query once a slot frees; a key missing
// from the result is not found; a caller that comes after a batch's query
// has started is read by a later query, never answered by the earlier one.
func TestCoalescerBatchesWhileBusy(t *testing.T) {
	gate := make(chan struct{})
	started := make(chan []int64, 100)
	c := newCoalescer(func(_ context.Context, keys []int64) (map[int64]int64, error) {
		started <- append([]int64(nil), keys...)
		<-gate
		out := map[int64]int64{}
		for _, k := range keys {
			if k != 99 { // 99 has no row
				out[k] = 10 * k
			}
		}
		return out, nil
	})
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
