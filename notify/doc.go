// Package notify is notifyd's domain: what a notification is, who
// receives it, and the one path by which it changes — persisted first,
// then published through a Broker to every open socket of its user.
//
//   - Notification, Style, NewNotification (title, content, style, url,
//     data) and their rules; User (an app's user named by ExternalID, or a
//     self-signup account of the demo page) and Session.
//   - Error: the coded error every layer returns (EINVALID, ENOTFOUND,
//     EUNAVAILABLE...); the HTTP and websocket adapters map the codes to
//     statuses and close codes.
//   - Service: Notify, NotifyExternal and NotifyManyExternal store through
//     the group-commit batcher (batcher.go: one committer goroutine, one
//     transaction for concurrent calls, Idempotency-Key claims in the same
//     transaction), then publish the committed rows in id (and seq) order;
//     SetRead, MarkAllRead and Delete do the same for changes. A batch
//     whose outcome is unknown is settled from the database before
//     anything newer is published (settle.go, with the one catch-up
//     routine of catchup.go).
//   - Broker (broker.go): the seam chosen at start-up; LocalBroker for one
//     process; Change, what a broker carries; Receiver, the receiving side
//     of the cluster brokers (per-user seq: duplicates dropped, gaps and
//     lost last changes repaired from the database, delivery lag).
//   - Hub and Subscriber: the registry of open sockets by user and session,
//     shared by the HTTP API (through Service) and the websocket server.
//     Publishing never blocks: each Subscriber has a bounded queue, and the
//     websocket server's writer is woken to drain it. The hub closes a
//     socket for a CloseReason; the websocket server picks its close code.
//   - Accounts: sign-up, login (argon2id, bounded by a hash gate), sessions
//     and tokens (TokenVerifier, implemented by package jwtauth).
//   - Sweeper (retention), Tasks (the demo), Observer: what the domain
//     reports (package metrics implements it on Prometheus).
//
// The store (package store) implements the interfaces declared here
// (NotificationStore, CatchUpStore, AccountStore, RetentionStore); notify imports no
// adapter.
package notify
