package main

import (
	"testing"

	"github.com/notifyd/notifyd/store/storetest"
)

// proxiedEnv is testEnv on a fresh Postgres database that notifyd reaches
// through a storetest.Proxy the test controls. Postgres only: the caller skips
// otherwise.
func proxiedEnv(tb testing.TB) (map[string]string, *storetest.Proxy) {
	tb.Helper()
	if !storetest.Postgres(tb) {
		tb.Fatal("proxiedEnv needs Postgres")
	}
	env := testEnv(tb)
	proxy, viaProxy := storetest.ProxyURL(tb, env["NOTIFYD_DATABASE_URL"])
	env["NOTIFYD_DATABASE_URL"] = viaProxy
	return env, proxy
}
