package store_test

import (
	"context"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestSeqOfChanges: every change a user's sockets see adds one to the
// user's seq, in the changing transaction, and returns the new value: a
// batch numbers its rows per user in id order; read, unread, read-all and
// delete take the next; another user's seq does not move; Position and
// UserSeqs read what was returned.
func TestSeqOfChanges(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	alice := storetest.User(t, st, "alice").ID
	bob := storetest.User(t, st, "bob").ID

	rows, _, err := st.InsertBatch(ctx, []notify.NewItem{item(alice, "a1"), item(bob, "b1"), item(alice, "a2")}, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Seq != 1 || rows[1].Seq != 1 || rows[2].Seq != 2 {
		t.Fatalf("batch seqs alice %d, bob %d, alice %d; want 1, 1, 2", rows[0].Seq, rows[1].Seq, rows[2].Seq)
	}
	want := int64(2)
	check := func(what string, got notify.Stamp, err error) {
		t.Helper()
		want++
		if err != nil || got.Seq != want {
			t.Fatalf("%s: seq %d, %v; want %d", what, got.Seq, err, want)
		}
	}
	_, s, err := st.SetRead(ctx, alice, rows[0].ID, true, t0)
	check("read", s, err)
	_, s, err = st.SetRead(ctx, alice, rows[0].ID, true, t0)
	check("read again (still published)", s, err)
	_, s, err = st.SetRead(ctx, alice, rows[0].ID, false, t0)
	check("unread", s, err)
	_, s, err = st.MarkAllRead(ctx, alice, 0, t0)
	check("read all", s, err)
	s, err = st.DeleteNotification(ctx, alice, rows[2].ID)
	check("delete", s, err)
	if _, err := st.DeleteNotification(ctx, alice, rows[1].ID); notify.ErrorCode(err) != notify.ENOTFOUND {
		t.Fatalf("delete of bob's row by alice: %v", err)
	}

	seqs, err := st.UserSeqs(ctx, []int64{alice, bob, 999999})
	if err != nil || seqs[alice] != want || seqs[bob] != 1 || len(seqs) != 2 {
		t.Fatalf("UserSeqs = %v, %v; want alice %d, bob 1, no unknown user", seqs, err, want)
	}
	unread, err := st.UnreadCount(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	pos, err := st.Position(ctx, alice)
	if wantPos := (notify.Position{Newest: rows[0].ID, Seq: want, Unread: unread}); err != nil || pos != wantPos {
		t.Fatalf("Position(alice) = %+v, %v; want %+v", pos, err, wantPos)
	}
	// bob's one notification is unread: the count comes with the rest.
	if pos, err := st.Position(ctx, bob); err != nil || pos != (notify.Position{Newest: rows[1].ID, Seq: 1, Unread: 1}) {
		t.Fatalf("Position(bob) = %+v, %v; want newest %d, seq 1, unread 1", pos, err, rows[1].ID)
	}
	if pos, err := st.Position(ctx, 999999); err != nil || pos != (notify.Position{}) {
		t.Fatalf("Position(unknown) = %+v, %v; want zeros", pos, err)
	}
}

// TestSeqsAhead: only the users whose seq moved past the one given come
// back, with the seq the database holds; users at or above it, and
// unknown users, do not.
func TestSeqsAhead(t *testing.T) {
	t.Parallel()
	st, a, b := aliceAndBob(t)
	carol := storetest.User(t, st, "carol")
	ctx := context.Background()
	insertN(t, st, a.ID, 2)
	insert(t, st, b.ID, "b1")
	insert(t, st, carol.ID, "c1")
	seqs, err := st.UserSeqs(ctx, []int64{a.ID, b.ID, carol.ID})
	if err != nil {
		t.Fatal(err)
	}
	// alice behind by one, bob up to date, carol reported ahead of the
	// database (a stale read elsewhere must not come back), 999999 unknown.
	last := map[int64]int64{a.ID: seqs[a.ID] - 1, b.ID: seqs[b.ID], carol.ID: seqs[carol.ID] + 5, 999999: 0}
	got, err := st.SeqsAhead(ctx, last)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int64]int64{a.ID: seqs[a.ID]}; !maps.Equal(got, want) {
		t.Fatalf("SeqsAhead = %v, want %v", got, want)
	}
	if got, err := st.SeqsAhead(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("SeqsAhead(nil) = %v, %v; want none", got, err)
	}
}

// The receiver's audit of 1,000 followed users and 1,000 sessions, all up
// to date: the reads it made before (every row back, a placeholder per
// id) against the statements that return only the exceptions. On
// Postgres (NOTIFYD_TEST_DATABASE_URL) the figure includes the server's
// time.
//
//	go test -run '^$' -bench BenchmarkAudit -benchmem ./store/
func BenchmarkAudit(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	const n = 1000
	users := make([]int64, n)
	sessions := make([]int64, n)
	for i := range n {
		u := storetest.User(b, st, "audit"+strconv.Itoa(i))
		users[i] = u.ID
		sessions[i] = newSession(b, st, u.ID, "secret-"+strconv.Itoa(i), time.Now().Add(time.Hour)).ID
	}
	last, err := st.UserSeqs(ctx, users)
	if err != nil {
		b.Fatal(err)
	}
	// Each read returns how many ids it found (all users, no user ahead,
	// all sessions, no session missing) and the count it must find.
	reads := []struct {
		name string
		read func() (int, error)
		want int
	}{
		{"UserSeqs", func() (int, error) { m, err := st.UserSeqs(ctx, users); return len(m), err }, n},
		{"SeqsAhead", func() (int, error) { m, err := st.SeqsAhead(ctx, last); return len(m), err }, 0},
		{"ExistingSessions", func() (int, error) { m, err := st.ExistingSessions(ctx, sessions); return len(m), err }, n},
		{"MissingSessions", func() (int, error) { m, err := st.MissingSessions(ctx, sessions); return len(m), err }, 0},
	}
	for _, r := range reads {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got, err := r.read(); err != nil || got != r.want {
					b.Fatalf("%d, %v; want %d", got, err, r.want)
				}
			}
		})
	}
}
