// Package natsbroker carries committed changes between notifyd instances
// over core NATS (github.com/nats-io/nats.go), for cluster.broker = "nats".
//
// Each user has a subject, <subject_prefix>.u.<user_id>. An instance
// subscribes to it while it holds sockets of that user (Bus.Watch on the
// first socket, Bus.Unwatch after the last) and waits for the server to
// confirm the subscription before the socket's hello reads the database,
// so nothing committed after that read can pass unseen. Instances without
// sockets of a user receive nothing of theirs.
//
// Every message is sealed (envelope.go): AES-256-GCM under a key derived
// with HKDF-SHA256 from cluster.secret, bound to its subject, with a
// per-sender counter and send time that make a replay detectable. A
// message that does not open, or is stale or replayed, is dropped and
// counted (notifyd_nats_rejected_total): whoever can publish on the NATS
// server but lacks the secret can neither read a change nor make one.
//
// Core NATS delivers at most once. The bus reports what may have been
// lost (a reconnection, a full receive queue) as a resync, and the
// receiver catches its watched users up from the database; per-user
// sequence numbers let it notice any other loss.
package natsbroker
