package cluster

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// Channel is the Postgres NOTIFY channel of the doorbells.
const Channel = "notifyd"

// MaxDoorbellBytes bounds one NOTIFY payload. Postgres refuses payloads of
// 8000 bytes or more; the margin keeps us clear of that limit.
const MaxDoorbellBytes = 7500

// A doorbell is "v1.<mac>.<body>": body is the JSON of a bell, mac the
// unpadded base64url HMAC-SHA256 of body under a key derived from
// cluster.secret. Any database role may LISTEN and NOTIFY on any channel,
// so a doorbell carries no content and no event data (only ids, counts
// and seqs), and one whose MAC does not verify is dropped unread: a role
// without the secret can neither read a notification nor forge a change.
const doorbellVersion = "v1"

// bell is the body of a doorbell: the changes of one or more commits of
// one instance, in the order published.
type bell struct {
	Origin  string `json:"o"` // the sending instance: it skips its own
	Changes []ring `json:"x"`
}

// ring is one change, by reference: the receiver reads the content back
// (a new or updated notification by id, an event from its cluster_events
// row).
type ring struct {
	Kind    notify.ChangeKind `json:"k"`
	User    int64             `json:"u,omitempty"`
	Seq     int64             `json:"q,omitempty"`
	At      int64             `json:"t"`            // commit time, Unix nanoseconds
	ID      int64             `json:"id,omitempty"` // notification id; for an event, its cluster_events row
	Unread  int64             `json:"c,omitempty"`
	UpTo    *int64            `json:"up,omitempty"`
	Session int64             `json:"s,omitempty"`
}

// ringOf is the reference form of c; eventRow is the cluster_events row of
// an event.
func ringOf(c notify.Change, eventRow int64) ring {
	r := ring{Kind: c.Kind, User: c.User, Seq: c.Seq, At: c.At.UnixNano(), ID: c.ID, Unread: c.Unread, UpTo: c.UpTo, Session: c.Session}
	switch c.Kind {
	case notify.ChangeNew, notify.ChangeUpdated:
		r.ID = c.Notification.ID
	case notify.ChangeEvent:
		r.ID = eventRow
	}
	return r
}

// change is r as a change without its content (Notification, Event),
// which the receiver reads back.
func (r ring) change() notify.Change {
	return notify.Change{Kind: r.Kind, User: r.User, Seq: r.Seq, At: time.Unix(0, r.At), ID: r.ID, Unread: r.Unread, UpTo: r.UpTo, Session: r.Session}
}

// valid reports whether r is a kind this version knows, with what that
// kind needs.
func (r ring) valid() bool {
	switch r.Kind {
	case notify.ChangeNew, notify.ChangeUpdated, notify.ChangeDeleted:
		return r.User > 0 && r.Seq > 0 && r.ID > 0
	case notify.ChangeReadAll:
		return r.User > 0 && r.Seq > 0
	case notify.ChangeSession:
		return r.Session > 0
	case notify.ChangeEvent:
		return r.User > 0 && r.ID > 0
	}
	return false
}

// signer signs and verifies doorbells with the key of cluster.secret.
type signer struct {
	key []byte
}

// newSigner derives the doorbell key from secret with HKDF-SHA256, so the
// secret itself is never used as a key and other uses of it (the NATS
// broker's seal) get keys of their own.
func newSigner(secret string) (signer, error) {
	if secret == "" {
		return signer{}, errors.New("cluster: cluster.secret is required")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "notifyd postgres doorbell v1", 32)
	if err != nil {
		return signer{}, fmt.Errorf("cluster: derive doorbell key: %w", err)
	}
	return signer{key: key}, nil
}

func (s signer) mac(body []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(body)
	return h.Sum(nil)
}

// encode writes the rings of origin as doorbells of at most
// MaxDoorbellBytes each, rings in order.
func (s signer) encode(origin string, rings []ring) ([]string, error) {
	var out []string
	for len(rings) > 0 {
		n := len(rings)
		for {
			p, err := s.seal(bell{Origin: origin, Changes: rings[:n]})
			if err != nil {
				return nil, err
			}
			if len(p) <= MaxDoorbellBytes || n == 1 {
				out = append(out, p)
				break
			}
			n = max(1, n/2)
		}
		rings = rings[n:]
	}
	return out, nil
}

func (s signer) seal(b bell) (string, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("cluster: encode doorbell: %w", err)
	}
	return doorbellVersion + "." + base64.RawURLEncoding.EncodeToString(s.mac(body)) + "." + string(body), nil
}

// Errors of open, by metric reason.
var (
	errBadMAC    = errors.New("cluster: doorbell not authenticated")
	errMalformed = errors.New("cluster: doorbell malformed")
)

// open verifies and decodes a doorbell. A payload whose MAC does not
// verify is errBadMAC, whatever else it holds: nothing of it is read.
func (s signer) open(payload string) (bell, error) {
	version, rest, ok := strings.Cut(payload, ".")
	if !ok || version != doorbellVersion {
		return bell{}, errBadMAC
	}
	mac64, body, ok := strings.Cut(rest, ".")
	if !ok {
		return bell{}, errBadMAC
	}
	mac, err := base64.RawURLEncoding.DecodeString(mac64)
	if err != nil || !hmac.Equal(mac, s.mac([]byte(body))) {
		return bell{}, errBadMAC
	}
	var b bell
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return bell{}, errMalformed
	}
	for _, r := range b.Changes {
		if !r.valid() {
			return bell{}, errMalformed
		}
	}
	return b, nil
}
