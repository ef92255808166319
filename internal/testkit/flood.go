package testkit

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/notifyd/notifyd/client"
)

// Flood creates notifications through a publisher client, for the users
// in turn, on a goroutine of its own until halted: the steady traffic of
// the cluster and outage tests, which then compare what the sockets saw
// with what the database holds.
type Flood struct {
	cancel context.CancelFunc
	done   chan error
	// Sent counts the notifications created so far.
	Sent atomic.Int64
}

// StartFlood starts publishing through pub to users (external ids) in
// turn; the test must call Halt.
func StartFlood(pub *client.Client, users ...string) *Flood {
	ctx, cancel := context.WithCancel(context.Background())
	f := &Flood{cancel: cancel, done: make(chan error, 1)}
	go func() {
		for i := 0; ; i++ {
			_, err := pub.Notify(ctx, users[i%len(users)], client.NewNotification{Title: "hello"})
			if ctx.Err() != nil {
				// Cancelled, perhaps midway: the row may or may not be
				// committed; the test compares with the database.
				f.done <- nil
				return
			}
			if err != nil {
				f.done <- err
				return
			}
			f.Sent.Add(1)
		}
	}()
	return f
}

// Halt stops the flood and fails the test if a publish failed.
func (f *Flood) Halt(tb testing.TB) {
	tb.Helper()
	f.cancel()
	if err := <-f.done; err != nil {
		tb.Fatalf("publisher: %v", err)
	}
}
