package notify_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// receiverEnv is a running Receiver over a real store, with one live
// socket of alice whose sequence started at the hello's read.
type receiverEnv struct {
	st    *store.Store
	rec   *notify.Receiver
	sub   *notify.Subscriber
	alice int64
}

func newReceiverEnv(t *testing.T) *receiverEnv {
	t.Helper()
	noLeaks(t)
	st := storetest.Open(t)
	hub := notify.NewHub(notifytest.HubConfig())
	rec := notify.NewReceiver(st, hub, notify.ReceiverConfig{GapWait: 20 * time.Millisecond, Audit: 50 * time.Millisecond, SessionAudit: 50 * time.Millisecond}, nil, nil)
	runReceiver(t, rec)
	alice := storetest.User(t, st, "alice").ID
	return &receiverEnv{st: st, rec: rec, sub: connectAt(t, st, hub, rec, alice), alice: alice}
}

// connectAt registers a live socket of user as the websocket server
// does: its sequence starts at the hello's read of the user's position.
func connectAt(tb testing.TB, st *store.Store, hub *notify.Hub, rec *notify.Receiver, user int64) *notify.Subscriber {
	tb.Helper()
	sub := register(tb, hub, user, 0)
	pos, err := st.Position(context.Background(), user)
	if err != nil || !sub.SetFloor(pos.Newest) {
		tb.Fatalf("position: %v", err)
	}
	rec.Seen(user, pos.Seq)
	sub.GoLive(pos.Newest)
	return sub
}

// insert commits one notification per title for alice and returns the
// changes a broker would carry.
func (e *receiverEnv) insert(t *testing.T, titles ...string) []notify.Change {
	t.Helper()
	items := make([]notify.NewItem, len(titles))
	for i, title := range titles {
		items[i] = notify.NewItem{UserID: e.alice, NewNotification: notify.NewNotification{Title: title}}
	}
	rows, _, err := e.st.InsertBatch(context.Background(), items, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]notify.Change, len(rows))
	for i, r := range rows {
		out[i] = notify.Change{Kind: notify.ChangeNew, User: r.UserID, Seq: r.Seq, At: time.Now(), Notification: &r.Notification, Unread: r.Unread}
	}
	return out
}

// frames waits until the socket got n notification frames and returns
// their ids, and the types of every frame in order.
func (e *receiverEnv) frames(t *testing.T, n int) (ids []int64, types []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(ids) < n {
		f, err := notifytest.Next(ctx, e.sub)
		if err != nil {
			t.Fatalf("socket got ids %v (frames %v), want %d notifications: %v", ids, types, n, err)
		}
		types = append(types, f.Type)
		if f.Type == "notification" {
			ids = append(ids, f.ID)
		}
	}
	return ids, types
}

func idsOf(changes []notify.Change) []int64 {
	out := make([]int64, len(changes))
	for i, c := range changes {
		out[i] = c.Notification.ID
	}
	return out
}

// TestReceiverDropsDuplicates: a change delivered twice reaches the socket
// once, and what follows still does.
func TestReceiverDropsDuplicates(t *testing.T) {
	e := newReceiverEnv(t)
	c := e.insert(t, "one", "two")
	e.rec.Deliver([]notify.Change{c[0], c[0]})
	e.rec.Deliver([]notify.Change{c[0], c[1], c[1]})
	ids, types := e.frames(t, 2)
	if !slices.Equal(ids, idsOf(c)) || len(types) != 2 {
		t.Fatalf("ids %v frames %v, want %v once each", ids, types, idsOf(c))
	}
	if extra := drainNotifications(t, e.sub); len(extra) > 0 {
		t.Fatalf("duplicates delivered: %v", extra)
	}
}

// TestReceiverReordersPair: the second change arriving first waits for the
// first, and both are delivered in order without a catch-up.
func TestReceiverReordersPair(t *testing.T) {
	e := newReceiverEnv(t)
	c := e.insert(t, "one", "two")
	e.rec.Deliver([]notify.Change{c[1]})
	e.rec.Deliver([]notify.Change{c[0]})
	ids, types := e.frames(t, 2)
	if !slices.Equal(ids, idsOf(c)) || slices.Contains(types, "unread_count") {
		t.Fatalf("ids %v frames %v, want %v and no catch-up", ids, types, idsOf(c))
	}
}

// TestReceiverRepairsGap: the first change is lost; the second waits
// GapWait, then the socket is caught up from the database (both rows, in
// order, and the fresh count) before anything newer.
func TestReceiverRepairsGap(t *testing.T) {
	e := newReceiverEnv(t)
	c := e.insert(t, "lost", "next")
	e.rec.Deliver([]notify.Change{c[1]})
	ids, _ := e.frames(t, 2)
	if !slices.Equal(ids, idsOf(c)) {
		t.Fatalf("ids %v, want %v", ids, idsOf(c))
	}
	later := e.insert(t, "later")
	e.rec.Deliver(later)
	if ids, _ := e.frames(t, 1); ids[0] != later[0].Notification.ID {
		t.Fatalf("after the repair got %v, want %d", ids, later[0].Notification.ID)
	}
}

// TestReceiverAuditRepairsTail: the user's last change is lost and nothing
// follows; the audit finds the database ahead and catches the socket up.
func TestReceiverAuditRepairsTail(t *testing.T) {
	e := newReceiverEnv(t)
	c := e.insert(t, "lost last")
	ids, _ := e.frames(t, 1)
	if !slices.Equal(ids, idsOf(c)) {
		t.Fatalf("ids %v, want %v", ids, idsOf(c))
	}
	// Behind since the audit saw it, until the repair has ended.
	deadline := time.Now().Add(10 * time.Second)
	for e.rec.Lag() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("lag %s long after the repair, want 0", e.rec.Lag())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReceiverChangeBeforeSeen: a change delivered while the user's first
// socket is still in its hello (after its read, before Seen) reaches it,
// and counts: the next change follows it without a repair (no
// unread_count frame).
func TestReceiverChangeBeforeSeen(t *testing.T) {
	e := newReceiverEnv(t)
	hub := notify.NewHub(notifytest.HubConfig())
	rec := notify.NewReceiver(e.st, hub, notify.ReceiverConfig{GapWait: 20 * time.Millisecond, Audit: 50 * time.Millisecond, SessionAudit: 50 * time.Millisecond}, nil, nil)
	runReceiver(t, rec)
	ctx := context.Background()
	sub, err := hub.Register(e.alice, 0)
	if err != nil {
		t.Fatal(err)
	}
	pos, err := e.st.Position(ctx, e.alice)
	newest, seq := pos.Newest, pos.Seq
	if err != nil || !sub.SetFloor(newest) {
		t.Fatalf("position: %v", err)
	}
	c1 := e.insert(t, "while in hello")
	rec.Deliver(c1)
	rec.Seen(e.alice, seq)
	sub.GoLive(newest)
	c2 := e.insert(t, "next")
	rec.Deliver(c2)
	e.sub = sub
	ids, types := e.frames(t, 2)
	if !slices.Equal(ids, append(idsOf(c1), idsOf(c2)...)) {
		t.Fatalf("ids %v, want %v then %v", ids, idsOf(c1), idsOf(c2))
	}
	// Longer than the gap wait and two audits: no repair comes.
	time.Sleep(200 * time.Millisecond)
	if f, ok := sub.Next(); ok || slices.Contains(types, "unread_count") {
		t.Fatalf("frames %v then %s: a repair ran", types, f.Data)
	}
}

// TestReceiverLagClearsOnDelivery: a change the audit found in the
// database but not delivered yet counts in the lag only until it is
// delivered, not until the next audit (an audit finds changes in flight
// all the time under load; counting them for a whole interval failed
// /readyz of a healthy instance).
func TestReceiverLagClearsOnDelivery(t *testing.T) {
	noLeaks(t)
	st := storetest.Open(t)
	hub := notify.NewHub(notifytest.HubConfig())
	rec := notify.NewReceiver(st, hub, notify.ReceiverConfig{GapWait: notifytest.ReceiverConfig().GapWait, Audit: time.Hour, SessionAudit: time.Hour}, nil, nil)
	alice := storetest.User(t, st, "alice").ID
	sub := connectAt(t, st, hub, rec, alice)
	ctx := context.Background()
	e := &receiverEnv{st: st, rec: rec, sub: sub, alice: alice}
	c := e.insert(t, "in flight")
	if err := rec.AuditNow(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if rec.Lag() == 0 {
		t.Fatal("no lag while the audit has seen a change not delivered")
	}
	rec.Deliver(c)
	if lag := rec.Lag(); lag != 0 {
		t.Fatalf("lag %s after the change was delivered, want 0", lag)
	}
}
