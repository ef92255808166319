package store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/store/storetest"
)

// claim is an idempotency claim on the items [first, first+count).
func claim(key, request string, first, count int) notify.Claim {
	return notify.Claim{
		Idempotency: notify.Idempotency{
			Scope: []byte("scope"), Key: key, RequestHash: []byte(request),
			Answer: func(rows []notify.Inserted) (int, []byte) {
				return 201, fmt.Appendf(nil, "answer %s: %d rows, first id %d", key, len(rows), rows[0].ID)
			},
		},
		First: first, Count: count,
	}
}

// TestInsertBatchClaims: in one batch, items of a won claim are stored
// with the answer; items of a key already taken are not, and the outcome
// carries the stored answer and request hash; items without a claim are
// stored as usual.
func TestInsertBatchClaims(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	items := []notify.NewItem{extItem("u1", "a"), extItem("u2", "b")}
	rows, outcomes, err := st.InsertBatch(ctx, items, []notify.Claim{claim("k1", "r1", 0, 2)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("answer k1: 2 rows, first id %d", rows[0].ID)
	if len(outcomes) != 1 || !outcomes[0].Won || string(outcomes[0].Body) != want || outcomes[0].Status != 201 {
		t.Fatalf("outcomes %+v", outcomes)
	}
	stored, found := storetest.IdempotencyRecord(t, st, []byte("scope"), "k1")
	if !found || string(stored.Body) != want || !bytes.Equal(stored.RequestHash, []byte("r1")) {
		t.Fatalf("record %+v, %v", stored, found)
	}

	// k1 again (another request, "r2"), k2 new, and an item without key.
	items = []notify.NewItem{extItem("u1", "again"), extItem("u1", "k2"), extItem("u2", "plain")}
	rows, outcomes, err = st.InsertBatch(ctx, items, []notify.Claim{claim("k1", "r2", 0, 1), claim("k2", "r3", 1, 1)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].ID != 0 || rows[1].ID == 0 || rows[2].ID == 0 {
		t.Fatalf("rows %+v: want none for the taken key", rows)
	}
	if outcomes[0].Won || string(outcomes[0].Body) != want || !bytes.Equal(outcomes[0].RequestHash, []byte("r1")) || !outcomes[1].Won {
		t.Fatalf("outcomes %+v", outcomes)
	}
	u1, err := st.UserByExternalID(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(storedByID(t, st, u1.ID)); n != 2 {
		t.Fatalf("u1 has %d rows, want 2", n)
	}
	if rows[1].Unread != 2 || rows[2].Unread != 2 {
		t.Fatalf("unread counts %d, %d; want 2, 2", rows[1].Unread, rows[2].Unread)
	}
}

// TestClaimsAcrossInstances: several stores on one database (instances)
// claim one key at once: exactly one wins, every other finds its answer,
// and one row is stored.
func TestClaimsAcrossInstances(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t)
	stores := []*store.Store{storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)}
	ctx := context.Background()
	results := race(8, func(i int) ([]notify.ClaimOutcome, error) {
		_, outcomes, err := stores[i%2].InsertBatch(ctx, []notify.NewItem{extItem("erin", "once")},
			[]notify.Claim{claim("shared", "req", 0, 1)}, t0)
		return outcomes, err
	})
	won, answers := 0, map[string]int{}
	var failures []error
	for _, r := range results {
		if r.err != nil {
			failures = append(failures, r.err)
			continue
		}
		if r.v[0].Won {
			won++
		}
		answers[string(r.v[0].Body)]++
	}
	if len(failures) > 0 || won != 1 || len(answers) != 1 {
		t.Fatalf("won %d, answers %v, errors %v", won, answers, failures)
	}
	erin, err := stores[0].UserByExternalID(ctx, "erin")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(storedByID(t, stores[0], erin.ID)); n != 1 {
		t.Fatalf("%d rows stored, want 1", n)
	}
}

// TestDeleteIdempotencyKeys: the sweeper deletes keys older than the TTL,
// in batches, and leaves newer ones.
func TestDeleteIdempotencyKeys(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	for i, at := range []int{0, 0, 0, 10} {
		c := claim(fmt.Sprint("k", i), "r", 0, 1)
		if _, _, err := st.InsertBatch(ctx, []notify.NewItem{extItem("u", "t")}, []notify.Claim{c}, t0.Add(time.Duration(at)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.DeleteIdempotencyKeys(ctx, t0.Add(5*time.Hour), 2)
	if err != nil || n != 2 {
		t.Fatalf("first batch deleted %d, %v; want 2", n, err)
	}
	n, err = st.DeleteIdempotencyKeys(ctx, t0.Add(5*time.Hour), 2)
	if err != nil || n != 1 {
		t.Fatalf("second batch deleted %d, %v; want 1", n, err)
	}
	if _, found := storetest.IdempotencyRecord(t, st, []byte("scope"), "k3"); !found {
		t.Fatal("the newer key was deleted")
	}
}
