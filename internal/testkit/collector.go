package testkit

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// Collector reads every frame of a socket, or of a hub subscriber, on a
// goroutine of its own, as a client that keeps reading does, so a test can
// publish from many places and then look at what arrived.
type Collector struct {
	done chan struct{}

	mu     sync.Mutex
	frames []Frame
	err    error // why reading stopped
}

// Collect starts collecting the frames of s until it ends; s is closed,
// and the goroutine waited for, when the test ends.
func (s *Socket) Collect(tb testing.TB) *Collector {
	tb.Helper()
	c := &Collector{done: make(chan struct{})}
	go c.run(func() ([]byte, error) {
		_, data, err := s.conn.Read(context.Background())
		return data, err
	})
	tb.Cleanup(func() {
		s.CloseNow()
		<-c.done
	})
	return c
}

// CollectHub starts collecting the frames the hub queues for sub, as the
// websocket writer would take them, until the hub closes sub; at the end
// of the test it stops and unregisters sub.
func CollectHub(tb testing.TB, hub *notify.Hub, sub *notify.Subscriber) *Collector {
	tb.Helper()
	ctx, stop := context.WithCancel(context.Background())
	c := &Collector{done: make(chan struct{})}
	go c.run(func() ([]byte, error) {
		f, err := notifytest.Next(ctx, sub)
		return f.Data, err
	})
	tb.Cleanup(func() {
		stop()
		<-c.done
		hub.Unregister(sub)
	})
	return c
}

// run appends every frame next returns until it fails. A frame that does
// not decode is kept with Type "undecodable" and its Raw text.
func (c *Collector) run(next func() ([]byte, error)) {
	defer close(c.done)
	for {
		data, err := next()
		c.mu.Lock()
		if err != nil {
			c.err = err
			c.mu.Unlock()
			return
		}
		f, derr := decodeFrame(data)
		if derr != nil {
			f = Frame{Type: "undecodable", Raw: data}
		}
		c.frames = append(c.frames, f)
		c.mu.Unlock()
	}
}

// Frames returns a copy of the frames so far.
func (c *Collector) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.frames)
}

// IDs returns the ids of the notification frames so far, in arrival order.
func (c *Collector) IDs() []int64 {
	var out []int64
	for _, f := range c.Frames() {
		if f.Type == "notification" {
			out = append(out, f.Notification.ID)
		}
	}
	return out
}

// WaitFrame waits for the frame after the first n and returns it.
func (c *Collector) WaitFrame(tb testing.TB, n int) Frame {
	tb.Helper()
	Eventually(tb, fmt.Sprintf("frame %d", n+1), func() bool { return len(c.Frames()) > n })
	return c.Frames()[n]
}

// WaitType waits until a frame of type typ has arrived and returns the
// last one.
func (c *Collector) WaitType(tb testing.TB, typ string) Frame {
	tb.Helper()
	var got Frame
	Eventually(tb, "a "+typ+" frame", func() bool {
		for _, f := range c.Frames() {
			if f.Type == typ {
				got = f
			}
		}
		return got.Type == typ
	})
	return got
}

// End waits until reading stopped and returns why: for a socket, the
// error whose websocket.CloseStatus is the close code; for a hub
// subscriber, notifytest.ErrClosed (its CloseReason says why).
func (c *Collector) End(tb testing.TB) error {
	tb.Helper()
	select {
	case <-c.done:
	case <-time.After(Timeout):
		tb.Fatal("the socket is still open")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
