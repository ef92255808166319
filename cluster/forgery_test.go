package cluster_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/cluster"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/metricstest"
)

// otherRole creates a login role with no right on any table (another
// application sharing the database server), dropped after the test, and
// returns a connection as that role to db's database.
func otherRole(tb testing.TB, dbURL string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	role := "notifyd_forger_" + strings.ToLower(rand.Text()[:10])
	if _, err := admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role); err != nil {
			tb.Error(err)
		}
		if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+role); err != nil {
			tb.Errorf("drop role %s: %v", role, err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	u.User = url.User(role)
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	var canRead bool
	if err := conn.QueryRow(ctx, "SELECT has_table_privilege('notifications', 'SELECT')").Scan(&canRead); err != nil || canRead {
		tb.Fatalf("role %s may read notifications (%v): not the role of another application", role, err)
	}
	return conn
}

// eavesdropper is an otherRole that LISTENs on the doorbell channel.
func eavesdropper(tb testing.TB, dbURL string) *pgx.Conn {
	tb.Helper()
	spy := otherRole(tb, dbURL)
	if _, err := spy.Exec(context.Background(), "LISTEN "+pgx.Identifier{cluster.Channel}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	return spy
}

// TestForgedDoorbellsHaveNoEffect: a role of another application, with no
// right on notifyd's tables, NOTIFYs the payloads of the security review
// (the former doorbell format: close a socket, zero a badge, a fake
// delete, a fake event) and signed-looking ones with a wrong MAC. None has
// any effect: the socket stays open and gets nothing, and each is counted
// as rejected; a real notification published after them arrives, alone.
func TestForgedDoorbellsHaveNoEffect(t *testing.T) {
	t.Parallel()
	db, a, b := twoNodes(t)
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	n1, err := a.svc.Notify(context.Background(), alice, notify.NewNotification{Title: "before"})
	if err != nil {
		t.Fatal(err)
	}
	s := b.connect(t, alice, sess)
	forger := otherRole(t, db.URL)

	forged := []string{
		fmt.Sprintf(`{"k":"s","s":%d}`, sess),
		fmt.Sprintf(`{"k":"r","u":%d,"c":0}`, alice),
		fmt.Sprintf(`{"k":"d","u":%d,"id":%d,"c":0}`, alice, n1.ID),
		fmt.Sprintf(`{"k":"e","u":%d,"e":{"type":"task_progress","data":{"percent":99}}}`, alice),
		fmt.Sprintf(`{"k":"n","r":[[%d,%d,7]]}`, alice, n1.ID+1000),
		// The current format, signed with a key the forger does not have.
		fmt.Sprintf(`v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.{"o":"x","x":[{"k":"session","s":%d,"t":1}]}`, sess),
		fmt.Sprintf(`v1..{"o":"x","x":[{"k":"read_all","u":%d,"q":999,"t":1}]}`, alice),
		fmt.Sprintf(`{"o":"x","x":[{"k":"deleted","u":%d,"q":2,"id":%d,"t":1}]}`, alice, n1.ID),
	}
	ctx := context.Background()
	for _, p := range forged {
		if _, err := forger.Exec(ctx, "SELECT pg_notify($1, $2)", cluster.Channel, p); err != nil {
			t.Fatalf("forger NOTIFY: %v", err)
		}
	}
	testkit.Eventually(t, "every forged doorbell rejected", func() bool {
		return metricstest.Value(t, b.reg, "notifyd_cluster_doorbells_rejected_total", "reason", notify.RejectMAC) >= float64(len(forged))
	})
	// Longer than the gap wait and an audit: nothing is repaired either,
	// since nothing changed.
	time.Sleep(500 * time.Millisecond)
	select {
	case <-s.sub.Done():
		code, reason := s.sub.CloseCode()
		t.Fatalf("socket closed by a forged doorbell: %d %s", code, reason)
	default:
	}
	if got := s.Frames(); len(got) != 0 {
		t.Fatalf("forged doorbells reached the socket: %+v", got)
	}

	n2, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "after"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the real notification", func() bool { return len(s.IDs()) == 1 })
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), []int64{n2.ID})
	if m := s.Frames()[0]; *m.UnreadCount != 2 {
		t.Fatalf("unread count %d, want 2 (the forged read-all changed nothing)", *m.UnreadCount)
	}
}

// TestDoorbellsCarryNoContent: what a role of another application hears on
// the channel holds no title, content or event data.
func TestDoorbellsCarryNoContent(t *testing.T) {
	t.Parallel()
	db := clusterDB(t)
	a := newNode(t, db, nodeOptions{})
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	a.connect(t, alice, sess)
	spy := eavesdropper(t, db.URL)
	ctx := context.Background()
	if _, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "secret title", Content: "secret content"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.SendEvent(ctx, alice, notify.Event{Type: "payment_status", Data: []byte(`{"iban":"secret iban"}`)}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		wctx, cancel := context.WithTimeout(ctx, testkit.Timeout)
		n, err := spy.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"secret", "payment_status", "iban"} {
			if strings.Contains(n.Payload, secret) {
				t.Fatalf("doorbell leaks %q: %s", secret, n.Payload)
			}
		}
	}
}

// TestReplayedDoorbellsHaveNoEffect: a role of another application records
// real doorbells (a new notification, its deletion) and sends them again:
// they are authenticated, but their seqs were delivered, so the socket
// gets nothing twice.
func TestReplayedDoorbellsHaveNoEffect(t *testing.T) {
	t.Parallel()
	db, a, b := twoNodes(t)
	alice, sess := testkit.StoreUser(t, a.st, "alice")
	s := b.connect(t, alice, sess)
	spy := eavesdropper(t, db.URL)
	ctx := context.Background()
	record := func() string {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, testkit.Timeout)
		defer cancel()
		n, err := spy.WaitForNotification(wctx)
		if err != nil {
			t.Fatal(err)
		}
		return n.Payload
	}
	n1, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "one"})
	if err != nil {
		t.Fatal(err)
	}
	created := record()
	s.WaitType(t, "notification")
	if err := a.svc.Delete(ctx, alice, n1.ID); err != nil {
		t.Fatal(err)
	}
	deleted := record()
	s.WaitType(t, "notification_deleted")

	for _, p := range []string{created, deleted, created} {
		if _, err := spy.Exec(ctx, "SELECT pg_notify($1, $2)", cluster.Channel, p); err != nil {
			t.Fatal(err)
		}
	}
	// Committed after the replays, so B hears it after them.
	n2, err := a.svc.Notify(ctx, alice, notify.NewNotification{Title: "two"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the second notification", func() bool { return len(s.IDs()) == 2 })
	var types []string
	for _, m := range s.Frames() {
		types = append(types, m.Type)
	}
	if want := []string{"notification", "notification_deleted", "notification"}; !slices.Equal(types, want) {
		t.Fatalf("messages %v, want %v", types, want)
	}
	testkit.CheckExactlyOnce(t, "alice on B", s.IDs(), []int64{n1.ID, n2.ID})
}
