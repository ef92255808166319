package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

const codecSecret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

// TestDoorbellCodec: a doorbell opens with the secret it was signed with,
// rings in order, split under MaxDoorbellBytes; one changed byte, another
// secret or another version is not authenticated.
func TestDoorbellCodec(t *testing.T) {
	s, err := newSigner(codecSecret)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	var rings []ring
	for i := range 400 {
		n := notify.Notification{ID: int64(1000 + i), UserID: 7, Title: "never in a doorbell"}
		rings = append(rings, ringOf(notify.Change{Kind: notify.ChangeNew, User: 7, Seq: int64(i + 1), At: at, Notification: &n, Unread: int64(i)}, 0))
	}
	payloads, err := s.encode("me", rings)
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for 400 rings, want a split", len(payloads))
	}
	var got []ring
	for _, p := range payloads {
		if len(p) > MaxDoorbellBytes || strings.Contains(p, "never") {
			t.Fatalf("payload of %d bytes, or with content: %.80s", len(p), p)
		}
		b, err := s.open(p)
		if err != nil || b.Origin != "me" {
			t.Fatalf("open: %+v, %v", b.Origin, err)
		}
		got = append(got, b.Changes...)
	}
	for i, r := range got {
		if r.Seq != int64(i+1) || r.ID != int64(1000+i) || r.change().At.UnixNano() != at.UnixNano() {
			t.Fatalf("ring %d = %+v", i, r)
		}
	}

	other, err := newSigner(codecSecret + "x")
	if err != nil {
		t.Fatal(err)
	}
	p := payloads[0]
	for name, bad := range map[string]string{
		"other secret":  mustEncode(t, other, rings[:1]),
		"changed body":  strings.Replace(p, `"u":7`, `"u":8`, 1),
		"other version": "v2" + strings.TrimPrefix(p, "v1"),
		"no mac":        p[strings.LastIndex(p[:strings.Index(p, "{")], ".")+1:],
	} {
		if _, err := s.open(bad); err != errBadMAC {
			t.Errorf("%s: open = %v, want errBadMAC", name, err)
		}
	}
	if _, err := newSigner(""); err == nil {
		t.Error("a signer without a secret")
	}
}

func mustEncode(t *testing.T, s signer, rings []ring) string {
	t.Helper()
	p, err := s.encode("other", rings)
	if err != nil {
		t.Fatal(err)
	}
	return p[0]
}
