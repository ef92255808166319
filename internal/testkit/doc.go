// Package testkit is the one test kit of notifyd: what the websocket,
// HTTP and end-to-end suites share, so that each idea is written once.
//
//   - Socket (socket.go, frame.go): the test's end of a /ws websocket —
//     dial, authenticate, read typed frames, expect a close. Its methods
//     with a testing.TB fail the test; Open and ReadCtx return errors, for
//     readers on their own goroutines.
//   - API (api.go, api_users.go): the user API over HTTP (sign-up, login,
//     the inbox), raw requests for the suites that test the protocol
//     itself, and Publisher, the project's Go client (package client) set
//     up for tests, for the publisher API.
//   - CheckExactlyOnce (exactlyonce.go): every id once, in order; Recorder
//     (recorder.go), a testing.TB that keeps what a check reports.
//   - TerminateListeners, CountListeners (listeners.go): end or count
//     the cluster listeners' Postgres connections (pg_terminate_backend).
//   - NewStack (stack.go): the store, hub, service, accounts and tasks over
//     a fresh storetest database, with the HTTP and websocket servers a
//     test asks for on httptest listeners. The servers are given as
//     constructors, so the suites of httpserver and wsserver (internal
//     tests, which cannot import a package that imports them) build their
//     own server on the shared stack.
//   - Subscribe, HubFrame (hub.go): a hub subscriber without a socket, for
//     suites that have no websocket server.
//   - Collector (collector.go): every frame of a socket (Socket.Collect) or
//     of a hub subscriber (CollectHub) read on a goroutine of its own, for
//     tests that publish from many places and then compare what arrived.
//   - StartFlood (flood.go): steady publishing through the Go client on a
//     goroutine of its own, for the cluster and outage tests.
//   - StoreUser, StoreSession (store.go): a user and a session made
//     directly in a store, for the broker suites below the HTTP API.
//
// It is test support only: no production package may import it
// (guard_test.go checks the module's import graph).
package testkit
