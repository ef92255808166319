package natsbroker

import (
	"bytes"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef-cluster"

// clock is a settable time for the envelope tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newPair(tb testing.TB, secret string, c *clock) (*sealer, *opener) {
	tb.Helper()
	k, err := newKeyring([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := newSealer(k, c.now)
	if err != nil {
		tb.Fatal(err)
	}
	var self senderID // the opener is another process
	self[0] = 0xff
	return s, newOpener(k, self, 1<<10, c.now)
}

func TestEnvelopeRoundTrip(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	s, o := newPair(t, testSecret, c)
	msg := s.seal("notifyd.u.1", []byte("hello"))
	if bytes.Contains(msg, []byte("hello")) {
		t.Fatal("payload visible in the sealed message")
	}
	got, reason := o.open("notifyd.u.1", msg)
	if reason != "" || got.self || string(got.payload) != "hello" || !got.sentAt.Equal(c.t) {
		t.Fatalf("open = %+v, reason %q", got, reason)
	}
}

// TestEnvelopeRefusals: everything an attacker on the NATS server can do
// without cluster.secret is refused, with its reason.
func TestEnvelopeRefusals(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	s, o := newPair(t, testSecret, c)
	other, _ := newPair(t, "another-secret-of-another-deployment", c)
	good := s.seal("notifyd.u.1", []byte(`{"k":"s","s":1}`))
	tampered := bytes.Clone(good)
	tampered[len(tampered)-20] ^= 1
	retimed := bytes.Clone(good)
	retimed[1+senderIDBytes+8] ^= 1
	tests := []struct {
		name, subject string
		msg           []byte
		want          string
	}{
		{"plain JSON", "notifyd.u.1", []byte(`{"k":"s","s":1,"padding":"................................"}`), RejectMalformed},
		{"empty", "notifyd.u.1", nil, RejectMalformed},
		{"too large", "notifyd.u.1", make([]byte, 2<<10), RejectTooLarge},
		{"other secret", "notifyd.u.1", other.seal("notifyd.u.1", []byte(`{"k":"s","s":1}`)), RejectForged},
		{"moved to another user", "notifyd.u.2", good, RejectForged},
		{"tampered ciphertext", "notifyd.u.1", tampered, RejectForged},
		{"tampered send time", "notifyd.u.1", retimed, RejectForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, reason := o.open(tt.subject, tt.msg); reason != tt.want {
				t.Fatalf("reason = %q, want %q", reason, tt.want)
			}
		})
	}
	// None of the refusals spent the genuine message's counter.
	if _, reason := o.open("notifyd.u.1", good); reason != "" {
		t.Fatalf("genuine message refused: %q", reason)
	}
}

func TestEnvelopeReplay(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	s, o := newPair(t, testSecret, c)
	var msgs [][]byte
	for range reorderWindow + 2 {
		msgs = append(msgs, s.seal("notifyd.u.1", []byte("x")))
	}
	open := func(m []byte) string { _, r := o.open("notifyd.u.1", m); return r }
	if r := open(msgs[1]); r != "" {
		t.Fatalf("first = %q", r)
	}
	if r := open(msgs[1]); r != RejectReplay {
		t.Fatalf("replay = %q, want %q", r, RejectReplay)
	}
	// A message overtaken by a later one is still accepted, once.
	if r := open(msgs[0]); r != "" {
		t.Fatalf("overtaken = %q", r)
	}
	if r := open(msgs[0]); r != RejectReplay {
		t.Fatalf("overtaken replay = %q, want %q", r, RejectReplay)
	}
	// Beyond the reorder window an old counter is refused unseen.
	last := msgs[len(msgs)-1]
	if r := open(last); r != "" {
		t.Fatalf("last = %q", r)
	}
	if r := open(msgs[1]); r != RejectReplay {
		t.Fatalf("far behind = %q, want %q", r, RejectReplay)
	}
}

// TestEnvelopeStale: a message older than the window is refused, and a
// sender forgotten after a silence cannot be replayed either.
func TestEnvelopeStale(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	s, o := newPair(t, testSecret, c)
	m1 := s.seal("notifyd.u.1", []byte("x"))
	if _, r := o.open("notifyd.u.1", m1); r != "" {
		t.Fatalf("fresh = %q", r)
	}
	c.t = c.t.Add(replayWindow + time.Second)
	if _, r := o.open("notifyd.u.1", m1); r != RejectStale {
		t.Fatalf("old = %q, want %q", r, RejectStale)
	}
	// Silence long enough to be forgotten: a new message prunes.
	c.t = c.t.Add(2 * replayWindow)
	m2 := s.seal("notifyd.u.1", []byte("y"))
	if _, r := o.open("notifyd.u.1", m2); r != "" {
		t.Fatalf("after silence = %q", r)
	}
	if _, r := o.open("notifyd.u.1", m2); r != RejectReplay {
		t.Fatalf("replay of the message that pruned = %q, want %q", r, RejectReplay)
	}
	c.t = c.t.Add(3 * replayWindow)
	s2, _ := newPair(t, testSecret, c)
	if _, r := o.open("notifyd.u.1", s2.seal("notifyd.u.1", []byte("z"))); r != "" {
		t.Fatalf("other sender = %q", r)
	}
	if len(o.peers) != 1 {
		t.Errorf("peers remembered = %d, want 1 (the silent one forgotten)", len(o.peers))
	}
	if _, r := o.open("notifyd.u.1", m1); r != RejectStale {
		t.Fatalf("replay of a forgotten sender = %q, want %q", r, RejectStale)
	}
}

func TestEnvelopeOwnEcho(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	s, o := newPair(t, testSecret, c)
	o.self = s.id
	if m, r := o.open("notifyd.u.1", s.seal("notifyd.u.1", []byte("x"))); !m.self || r != "" {
		t.Fatalf("own message: self %v, reason %q", m.self, r)
	}
}
