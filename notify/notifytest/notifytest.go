// Package notifytest stands in for the websocket server's writer in tests
// that hold a notify.Subscriber without a socket: it takes the frames
// queued for the subscriber through the same Next and SetWake calls, so
// tests exercise the one delivery path production uses.
package notifytest

import (
	"context"
	"errors"

	"github.com/notifyd/notifyd/notify"
)

// ErrClosed is returned by Next once the subscriber is closed: the hub
// queues nothing more for it.
var ErrClosed = errors.New("notifytest: subscriber closed")

// Next returns the oldest frame queued for s, waiting for one until ctx
// ends (ctx.Err()) or s is closed (ErrClosed). It replaces s's wake
// function (SetWake), as the websocket server does when it takes a
// socket over, so a subscriber has one reader at a time.
func Next(ctx context.Context, s *notify.Subscriber) (notify.Frame, error) {
	wake := make(chan struct{}, 1)
	// wake runs under s's lock on the publisher's goroutine: it only
	// signals, never blocks.
	s.SetWake(func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	for {
		if f, ok := s.Next(); ok {
			return f, nil
		}
		select {
		case <-wake:
		case <-s.Done():
			return notify.Frame{}, ErrClosed
		case <-ctx.Done():
			return notify.Frame{}, ctx.Err()
		}
	}
}
