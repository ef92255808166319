package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/store/storetest"
)

// TestNotifyLeavesCommitsDurable: Notify sends its payloads on the
// channel in order, and the synchronous_commit off of its own commit stays
// with its transaction: the pooled connection it ran on (the only one)
// still commits what follows durably.
func TestNotifyLeavesCommitsDurable(t *testing.T) {
	t.Parallel()
	if !storetest.Postgres(t) {
		t.Skip("NOTIFY needs Postgres: set " + storetest.EnvDatabaseURL)
	}
	cfg := storetest.Config(t)
	cfg.MaxOpenConns = 1 // Notify and the check below share one connection
	st := storetest.OpenConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listener, err := pgx.Connect(ctx, cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	if _, err := listener.Exec(ctx, "LISTEN doorbells"); err != nil {
		t.Fatal(err)
	}

	before, err := st.Setting(ctx, "synchronous_commit")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"one", "two", "three"}
	if err := st.Notify(ctx, "doorbells", want); err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		n, err := listener.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", w, err)
		}
		if n.Payload != w {
			t.Fatalf("payload %q, want %q", n.Payload, w)
		}
	}
	after, err := st.Setting(ctx, "synchronous_commit")
	if err != nil {
		t.Fatal(err)
	}
	if after != before || after == "off" {
		t.Fatalf("synchronous_commit after Notify = %q, before %q: the doorbell's setting leaked to the connection", after, before)
	}
}

// The postgres broker's doorbell statement at the size a sender sends at
// a steady rate (one payload of a few hundred bytes): ns/op and
// allocs/op of notifyd's side and the round trip, no listener.
//
//	NOTIFYD_TEST_DATABASE_URL=... go test -run '^$' -bench BenchmarkNotify -benchmem ./store/
func BenchmarkNotify(b *testing.B) {
	if !storetest.Postgres(b) {
		b.Skip("NOTIFY needs Postgres: set " + storetest.EnvDatabaseURL)
	}
	st := storetest.Open(b)
	payload := []string{strings.Repeat("x", 300)}
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Notify(context.Background(), "bench_doorbells", payload); err != nil {
			b.Fatal(err)
		}
	}
}
