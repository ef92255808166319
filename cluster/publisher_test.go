package cluster_test

import (
	"context"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// publisher creates notifications for users through svc until stopped,
// and returns how many it created.
type publisher struct {
	stop chan struct{}
	done chan int
}

func publish(tb testing.TB, svc *notify.Service, users []int64) *publisher {
	tb.Helper()
	p := &publisher{stop: make(chan struct{}), done: make(chan int, 1)}
	go func() {
		n := 0
		defer func() { p.done <- n }()
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			uid := users[n%len(users)]
			if _, err := svc.Notify(context.Background(), uid, notify.NewNotification{Title: "t"}); err != nil {
				tb.Errorf("notify: %v", err)
				return
			}
			n++
		}
	}()
	return p
}

// halt stops the publisher and returns how many it created.
func (p *publisher) halt() int {
	close(p.stop)
	return <-p.done
}
