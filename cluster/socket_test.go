package cluster_test

import (
	"context"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

// socket is a live subscriber of a hub whose frames a collector takes
// as a websocket writer would.
type socket struct {
	*testkit.Collector
	sub *notify.Subscriber
}

// connect registers a live socket of userID in n's hub, at the user's
// newest id (a connection without after_id), as the websocket server's
// hello does: Register, Watch, read the position, SetFloor, Seen, GoLive.
func (n *node) connect(tb testing.TB, userID, sessionID int64) *socket {
	tb.Helper()
	sub, err := n.hub.Register(userID, sessionID)
	if err != nil {
		tb.Fatal(err)
	}
	release, err := n.svc.Watch(context.Background(), userID)
	if err != nil {
		tb.Fatal(err)
	}
	// Registered first, so it runs after CollectHub's cleanup has
	// stopped the collector and unregistered sub.
	tb.Cleanup(release)
	pos, err := n.st.Position(context.Background(), userID)
	if err != nil {
		tb.Fatal(err)
	}
	for !sub.SetFloor(pos.Newest) {
		if pos, err = n.st.Position(context.Background(), userID); err != nil {
			tb.Fatal(err)
		}
	}
	n.svc.Seen(userID, pos.Seq)
	sub.GoLive(pos.Newest)
	return &socket{Collector: testkit.CollectHub(tb, n.hub, sub), sub: sub}
}

// closedWith waits until the hub closed the socket and returns why.
func (s *socket) closedWith(tb testing.TB) notify.CloseReason {
	tb.Helper()
	s.End(tb)
	why, _ := s.sub.CloseReason()
	return why
}
