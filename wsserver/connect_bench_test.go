package wsserver

import (
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
)

// BenchmarkConnect is one socket's connect, one at a time over loopback:
// upgrade, auth by session secret, the session and position reads, Register,
// hello, then a normal close. The client runs in the same process, so
// allocs/op counts both ends; the figure to compare before and after a
// change of the path (BENCHMARKS.md, "Connect and authenticate"). SQLite
// unless NOTIFYD_TEST_DATABASE_URL names a Postgres.
//
//	go test -run '^$' -bench BenchmarkConnect -benchmem ./wsserver/
func BenchmarkConnect(b *testing.B) {
	e := newEnv(b)
	_, _, secret := e.Session(b, "bench")
	auth := testkit.SecretAuth(secret, -1)
	b.ReportAllocs()
	for b.Loop() {
		s := e.connect(b, auth) // checks the hello
		s.Close()
	}
}
