package notify

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// countingBroker records Watch and Unwatch calls; Watch blocks until
// release is closed, and fails with fail when set.
type countingBroker struct {
	LocalBroker
	mu       sync.Mutex
	watched  map[int64]int
	unwatchd map[int64]int
	release  chan struct{}
	fail     error
}

func (b *countingBroker) Watch(_ context.Context, uid int64) error {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	b.watched[uid]++
	return b.fail
}

func (b *countingBroker) Unwatch(uid int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unwatchd[uid]++
}

// TestWatchesFirstAndLast: the broker hears of a user's first socket once
// (a second socket waits for that Watch) and of its last one once; after
// a failed Watch, every waiting socket fails and the next one watches
// again.
func TestWatchesFirstAndLast(t *testing.T) {
	b := &countingBroker{watched: map[int64]int{}, unwatchd: map[int64]int{}, release: make(chan struct{})}
	w := watches{broker: b}
	ctx := context.Background()
	var wg sync.WaitGroup
	releases := make([]func(), 3)
	for i := range releases {
		wg.Go(func() {
			r, err := w.acquire(ctx, 1)
			if err != nil {
				t.Error(err)
				return
			}
			releases[i] = r
		})
	}
	close(b.release)
	wg.Wait()
	if b.watched[1] != 1 {
		t.Fatalf("Watch called %d times for 3 sockets, want 1", b.watched[1])
	}
	releases[0]()
	releases[0]() // twice: counted once
	releases[1]()
	if b.unwatchd[1] != 0 {
		t.Fatal("Unwatch before the last socket closed")
	}
	releases[2]()
	if b.unwatchd[1] != 1 {
		t.Fatalf("Unwatch called %d times, want 1", b.unwatchd[1])
	}

	b.fail = errors.New("bus down")
	if _, err := w.acquire(ctx, 2); err == nil {
		t.Fatal("acquire succeeded with Watch failing")
	}
	b.fail = nil
	r, err := w.acquire(ctx, 2)
	if err != nil || b.watched[2] != 2 {
		t.Fatalf("acquire after a failure: %v, %d Watch calls; want a new Watch", err, b.watched[2])
	}
	r()
}
