package store_test

import (
	"context"
	"testing"

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
