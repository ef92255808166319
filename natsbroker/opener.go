package natsbroker

import (
	"crypto/cipher"
	"encoding/binary"
	"time"
)

// Reasons a received message is refused (label of
// notifyd_nats_rejected_total).
const (
	RejectMalformed = "malformed"       // too short, or not an envelope of a known version
	RejectTooLarge  = "too_large"       // above the message size bound
	RejectForged    = "unauthenticated" // not sealed with cluster.secret for this subject
	RejectStale     = "stale"           // sent longer ago (or further ahead) than the freshness window
	RejectReplay    = "replay"          // a message of that sender already received
)

// replayWindow is how far apart in time a message may be sent and
// received, and how long a silent sender is remembered. It bounds the
// memory of the replay check: a message older than that is refused
// whether or not its sender is still remembered. Instances' clocks must
// agree within it (NTP); a message refused for its age is a gap that the
// receiver repairs from the database.
const replayWindow = time.Minute

// reorderWindow is how many counters below a sender's newest one are
// still accepted once: NATS keeps one publisher's order, so this is only
// slack.
const reorderWindow = 64

// peer is what the opener remembers of one sender.
type peer struct {
	aead     cipher.AEAD
	newest   uint64 // highest counter received
	seen     uint64 // bit i: newest-i was received
	lastSeen time.Time
}

// opener authenticates received envelopes and refuses replays. It is owned
// by the receiving goroutine: not safe for concurrent use.
type opener struct {
	keys      keyring
	self      senderID
	maxBytes  int
	now       func() time.Time
	peers     map[senderID]*peer
	lastPrune time.Time
}

func newOpener(k keyring, self senderID, maxBytes int, now func() time.Time) *opener {
	return &opener{keys: k, self: self, maxBytes: maxBytes, now: now, peers: map[senderID]*peer{}, lastPrune: now()}
}

// opened is an authentic message.
type opened struct {
	payload []byte
	sentAt  time.Time // on the sender's clock
	self    bool      // this process's own message (an echo): neither delivered nor refused
}

// open returns msg received on subject, or the reason it is refused.
func (o *opener) open(subject string, msg []byte) (m opened, reason string) {
	if len(msg) > o.maxBytes {
		return opened{}, RejectTooLarge
	}
	if len(msg) < envelopeOverhead || msg[0] != envelopeVersion {
		return opened{}, RejectMalformed
	}
	now := o.now()
	// Before the lookup below, so the peer found is the one kept.
	o.prune(now)
	var id senderID
	copy(id[:], msg[1:])
	if id == o.self {
		return opened{self: true}, ""
	}
	counter := binary.BigEndian.Uint64(msg[1+senderIDBytes:])
	sentAt := time.Unix(0, int64(binary.BigEndian.Uint64(msg[1+senderIDBytes+8:])))
	p := o.peers[id]
	var aead cipher.AEAD
	if p != nil {
		aead = p.aead
	} else {
		var err error
		if aead, err = o.keys.aead(id); err != nil {
			return opened{}, RejectMalformed
		}
	}
	payload, err := aead.Open(nil, nonce(counter), msg[headerBytes:], additional(msg[:headerBytes], subject))
	if err != nil {
		return opened{}, RejectForged
	}
	if age := now.Sub(sentAt); age > replayWindow || age < -replayWindow {
		return opened{}, RejectStale
	}
	if p == nil {
		p = &peer{aead: aead}
		o.peers[id] = p
	}
	if !p.accept(counter) {
		return opened{}, RejectReplay
	}
	p.lastSeen = now
	return opened{payload: payload, sentAt: sentAt}, ""
}

// accept records counter n and reports whether it is new.
func (p *peer) accept(n uint64) bool {
	switch {
	case n > p.newest:
		shift := n - p.newest
		if shift >= 64 {
			p.seen = 0
		} else {
			p.seen <<= shift
		}
		p.seen |= 1
		p.newest = n
		return true
	case p.newest-n >= reorderWindow:
		return false
	default:
		bit := uint64(1) << (p.newest - n)
		if p.seen&bit != 0 {
			return false
		}
		p.seen |= bit
		return true
	}
}

// prune forgets senders silent for longer than 2×replayWindow, at most
// once per window. Any message of theirs would now be refused as stale: it
// was accepted with a send time at most replayWindow after lastSeen (the
// sender's clock may run ahead that much), so it is now older than
// replayWindow.
func (o *opener) prune(now time.Time) {
	if now.Sub(o.lastPrune) < replayWindow {
		return
	}
	o.lastPrune = now
	for id, p := range o.peers {
		if now.Sub(p.lastSeen) > 2*replayWindow {
			delete(o.peers, id)
		}
	}
}
