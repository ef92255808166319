package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// DoorbellChannel is the Postgres NOTIFY channel on which, in cluster mode,
// every committed change is announced to every notifyd instance.
const DoorbellChannel = "notifyd"

// MaxDoorbellBytes bounds one NOTIFY payload. Postgres refuses payloads of
// 8000 bytes or more; the margin leaves room for the channel name and
// keeps us clear of that limit whatever the build.
const MaxDoorbellBytes = 7500

// The kinds of doorbell (the "k" field of a payload).
const (
	BellNew      = "n" // new notifications: Rows
	BellUpdated  = "u" // notification ID of User read or unread: Unread
	BellDeleted  = "d" // notification ID of User deleted: Unread
	BellReadAll  = "r" // User's notifications up to UpTo (nil: all) read: Unread
	BellSession  = "s" // Session revoked: close its sockets with 4401
	BellEvent    = "e" // live Event for User
	BellEventRow = "E" // live event for User too large for a payload, stored as cluster_events row ID
)

// ErrDoorbellTooLarge is returned by Doorbell.Payloads for a doorbell that
// cannot be split and does not fit in MaxDoorbellBytes: an event, which
// then goes through a short-lived row (BellEventRow).
var ErrDoorbellTooLarge = errors.New("notify: doorbell payload too large")

// Doorbell is one announcement on DoorbellChannel. Payloads carry ids and
// counts, never notification content: a NOTIFY is visible to every
// database user, and every instance reads the content it needs from the
// database. Only events, which are never stored, carry their data.
type Doorbell struct {
	Kind    string    `json:"k"`
	Rows    []BellRow `json:"r,omitempty"`
	User    int64     `json:"u,omitempty"`
	ID      int64     `json:"id,omitempty"`
	Unread  int64     `json:"c,omitempty"`
	UpTo    *int64    `json:"up,omitempty"` // absent: every notification (read-all without up_to_id)
	Session int64     `json:"s,omitempty"`
	Event   *Event    `json:"e,omitempty"`
}

// BellRow is one new notification in a BellNew doorbell, with its user's
// unread count read in the inserting transaction. It is encoded as the
// array [user_id, id, unread] to keep payloads small.
type BellRow struct {
	User   int64
	ID     int64
	Unread int64
}

// MarshalJSON encodes r as [user_id, id, unread].
func (r BellRow) MarshalJSON() ([]byte, error) {
	return r.appendJSON(nil), nil
}

func (r BellRow) appendJSON(b []byte) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, r.User, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Unread, 10)
	return append(b, ']')
}

// UnmarshalJSON decodes [user_id, id, unread].
func (r *BellRow) UnmarshalJSON(b []byte) error {
	var a []int64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) != 3 {
		return fmt.Errorf("notify: doorbell row: want [user_id, id, unread], got %d numbers", len(a))
	}
	r.User, r.ID, r.Unread = a[0], a[1], a[2]
	return nil
}

// NewNotificationsBell announces freshly inserted rows with the unread
// count of each row's user.
func NewNotificationsBell(rows []Notification, unread map[int64]int64) Doorbell {
	d := Doorbell{Kind: BellNew, Rows: make([]BellRow, len(rows))}
	for i, n := range rows {
		d.Rows[i] = BellRow{User: n.UserID, ID: n.ID, Unread: unread[n.UserID]}
	}
	return d
}

// Payloads encodes d as NOTIFY payloads of at most MaxDoorbellBytes each:
// one payload, except for a BellNew doorbell with more rows than fit, which
// is split into several, rows in the same order. Any other doorbell over
// the limit is ErrDoorbellTooLarge.
func (d Doorbell) Payloads() ([]string, error) {
	if d.Kind == BellNew {
		return d.splitRows(MaxDoorbellBytes), nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("notify: encode doorbell: %w", err)
	}
	if len(b) > MaxDoorbellBytes {
		return nil, ErrDoorbellTooLarge
	}
	return []string{string(b)}, nil
}

// splitRows writes the rows of a BellNew doorbell into payloads of at most
// limit bytes, {"k":"n","r":[[u,id,c],...]}. One row is at most 3×20
// digits plus punctuation, far below limit.
func (d Doorbell) splitRows(limit int) []string {
	const head, tail = `{"k":"n","r":[`, `]}`
	var (
		out []string
		buf []byte
		row []byte
	)
	for _, r := range d.Rows {
		row = r.appendJSON(row[:0])
		if len(buf) > 0 && len(buf)+1+len(row)+len(tail) > limit {
			out = append(out, string(append(buf, tail...)))
			buf = buf[:0]
		}
		if len(buf) == 0 {
			buf = append(buf, head...)
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, row...)
	}
	if len(buf) > 0 {
		out = append(out, string(append(buf, tail...)))
	}
	return out
}

// ParseDoorbell decodes a NOTIFY payload. An unknown kind is an error, so
// an older instance skips what a newer one announces instead of
// misreading it.
func ParseDoorbell(payload string) (Doorbell, error) {
	var d Doorbell
	if err := json.Unmarshal([]byte(payload), &d); err != nil {
		return Doorbell{}, fmt.Errorf("notify: parse doorbell: %w", err)
	}
	switch d.Kind {
	case BellNew, BellUpdated, BellDeleted, BellReadAll, BellSession, BellEventRow:
	case BellEvent:
		if d.Event == nil {
			return Doorbell{}, errors.New("notify: parse doorbell: event without \"e\"")
		}
	default:
		return Doorbell{}, fmt.Errorf("notify: parse doorbell: unknown kind %q", d.Kind)
	}
	return d, nil
}
