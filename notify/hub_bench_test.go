package notify_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// The hub's publish path, without the network: Publish hands a frame to
// every socket of a user and the socket's owner takes it with Next, as the
// websocket writer does. A frame is serialised once per notification and
// shared by its sockets, so a delivered frame should cost no allocation;
// "allocs/frame" reports that (a Publish reads the user's subscriber list
// without copying it: the hub replaces the list on register and unregister
// instead, so a publish allocates nothing).
//
//	go test -run '^$' -bench BenchmarkHub -count 5 ./notify/

// benchSubscriber registers a live socket with a wake that only counts
// the kicks (the websocket server's sets a flag under its own lock).
func benchSubscriber(tb testing.TB, h *notify.Hub, userID, sessionID int64) *notify.Subscriber {
	tb.Helper()
	s := register(tb, h, userID, sessionID)
	kicks := 0
	s.SetWake(func() { kicks++ }) // called under the subscriber's lock
	s.GoLive(0)
	return s
}

// benchFrame is a notification frame of a typical size (about 300 bytes).
func benchFrame(tb testing.TB, id int64) notify.Frame {
	tb.Helper()
	n := notify.Notification{
		ID: id, UserID: 1, Title: "Build finished",
		Content:   "The nightly build of notifyd finished in 4 min 12 s: 1,204 tests passed, 0 failed.",
		Style:     notify.StyleInfo,
		CreatedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	return notify.NotificationFrame(n, 3)
}

// take takes one frame from each of subs and fails if one has none.
func take(tb testing.TB, subs []*notify.Subscriber) {
	for _, s := range subs {
		if _, ok := s.Next(); !ok {
			tb.Fatalf("subscriber %d: no frame queued", s.ID)
		}
	}
}

// reportPerFrame adds ns/frame and allocs/frame, frames being b.N × perOp.
func reportPerFrame(b *testing.B, perOp int, mallocs0 uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	frames := float64(b.N * perOp)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/frames, "ns/frame")
	b.ReportMetric(float64(ms.Mallocs-mallocs0)/frames, "allocs/frame")
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// BenchmarkHubPublish publishes one pre-serialised frame to the 1, 2 or 16
// sockets of one user.
func BenchmarkHubPublish(b *testing.B) {
	for _, n := range []int{1, 2, 16} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			h := notify.NewHub(notifytest.HubConfig())
			subs := make([]*notify.Subscriber, n)
			for i := range subs {
				subs[i] = benchSubscriber(b, h, 1, int64(i+1))
			}
			f := benchFrame(b, 0)
			b.ReportAllocs()
			m0 := mallocs()
			for b.Loop() {
				f.ID++ // a socket drops an id it already has
				h.Publish(1, f)
				take(b, subs)
			}
			reportPerFrame(b, n, m0)
		})
	}
}

// BenchmarkHubPublishSerialised also builds the frame in each operation
// (JSON, once per notification), to 16 sockets: what a notification costs
// the hub, and that delivering it adds nothing per socket.
func BenchmarkHubPublishSerialised(b *testing.B) {
	const n = 16
	h := notify.NewHub(notifytest.HubConfig())
	subs := make([]*notify.Subscriber, n)
	for i := range subs {
		subs[i] = benchSubscriber(b, h, 1, int64(i+1))
	}
	var id int64
	b.ReportAllocs()
	m0 := mallocs()
	for b.Loop() {
		id++
		h.Publish(1, benchFrame(b, id))
		take(b, subs)
	}
	reportPerFrame(b, n, m0)
}

// BenchmarkHubPublishManyUsers publishes to 10,000 users of 2 sockets
// each, one user after the other, from one goroutine and then from
// GOMAXPROCS goroutines at once (the registry lock is shared by all).
func BenchmarkHubPublishManyUsers(b *testing.B) {
	const users, perUser = 10000, 2
	h := notify.NewHub(notifytest.HubConfig())
	byUser := make([][]*notify.Subscriber, users)
	for u := range byUser {
		for k := range perUser {
			byUser[u] = append(byUser[u], benchSubscriber(b, h, int64(u+1), int64(u*perUser+k+1)))
		}
	}
	f := benchFrame(b, 0)

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		m0 := mallocs()
		i := 0
		for b.Loop() {
			u := i % users
			i++
			f.ID++
			h.Publish(int64(u+1), f)
			take(b, byUser[u])
		}
		reportPerFrame(b, perUser, m0)
	})
	var ids atomic.Int64 // rises across the rounds of the parallel run
	b.Run("parallel", func(b *testing.B) {
		ids.CompareAndSwap(0, f.ID) // above the serial run's ids
		procs := runtime.GOMAXPROCS(0)
		var next atomic.Int64
		b.ReportAllocs()
		m0 := mallocs()
		b.RunParallel(func(pb *testing.PB) {
			// Goroutine g publishes to users g, g+procs, g+2·procs...
			// only, so each user's ids rise.
			g := int(next.Add(1)-1) % procs
			mine := (users - g + procs - 1) / procs
			for i := 0; pb.Next(); i++ {
				u := g + (i%mine)*procs
				fr := f
				fr.ID = ids.Add(1)
				h.Publish(int64(u+1), fr)
				take(b, byUser[u])
			}
		})
		reportPerFrame(b, perUser, m0)
	})
}
