package notify_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

func TestDoorbellRoundTrip(t *testing.T) {
	upTo := int64(41)
	cases := []struct {
		name string
		bell notify.Doorbell
		want string // the payload, to pin the wire format
	}{
		{"new", notify.Doorbell{Kind: notify.BellNew, Rows: []notify.BellRow{{User: 3, ID: 10, Unread: 2}, {User: 4, ID: 11, Unread: 0}}},
			`{"k":"n","r":[[3,10,2],[4,11,0]]}`},
		{"updated", notify.Doorbell{Kind: notify.BellUpdated, User: 3, ID: 10, Unread: 1},
			`{"k":"u","u":3,"id":10,"c":1}`},
		{"deleted to zero", notify.Doorbell{Kind: notify.BellDeleted, User: 3, ID: 10},
			`{"k":"d","u":3,"id":10}`},
		{"read all up to", notify.Doorbell{Kind: notify.BellReadAll, User: 3, UpTo: &upTo, Unread: 5},
			`{"k":"r","u":3,"c":5,"up":41}`},
		{"read all", notify.Doorbell{Kind: notify.BellReadAll, User: 3},
			`{"k":"r","u":3}`},
		{"logout", notify.Doorbell{Kind: notify.BellSession, Session: 77},
			`{"k":"s","s":77}`},
		{"event", notify.Doorbell{Kind: notify.BellEvent, User: 3, Event: &notify.Event{Type: "task_progress", Data: json.RawMessage(`{"p":0.5}`)}},
			`{"k":"e","u":3,"e":{"type":"task_progress","data":{"p":0.5}}}`},
		{"event without data", notify.Doorbell{Kind: notify.BellEvent, User: 3, Event: &notify.Event{Type: "ping"}},
			`{"k":"e","u":3,"e":{"type":"ping"}}`},
		{"stored event", notify.Doorbell{Kind: notify.BellEventRow, User: 3, ID: 9},
			`{"k":"E","u":3,"id":9}`},
		{"big ids", notify.Doorbell{Kind: notify.BellNew, Rows: []notify.BellRow{{User: math.MaxInt64, ID: math.MaxInt64, Unread: math.MaxInt64}}},
			`{"k":"n","r":[[9223372036854775807,9223372036854775807,9223372036854775807]]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			payloads, err := c.bell.Payloads()
			if err != nil {
				t.Fatal(err)
			}
			if len(payloads) != 1 || payloads[0] != c.want {
				t.Fatalf("payloads = %q, want [%q]", payloads, c.want)
			}
			got, err := notify.ParseDoorbell(payloads[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.bell) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, c.bell)
			}
		})
	}
}

func TestDoorbellSplit(t *testing.T) {
	// 1000 users with large ids: the bulk insert of NotifyMany at its cap.
	const users = notify.MaxBulkUsers
	rows := make([]notify.Notification, users)
	unread := make(map[int64]int64, users)
	for i := range rows {
		uid := int64(1_000_000_000 + i)
		rows[i] = notify.Notification{ID: int64(5_000_000_000 + i), UserID: uid}
		unread[uid] = int64(100_000 + i)
	}
	bell := notify.NewNotificationsBell(rows, unread)
	payloads, err := bell.Payloads()
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for %d rows: expected a split", len(payloads), users)
	}
	var got []notify.BellRow
	for i, p := range payloads {
		if len(p) > notify.MaxDoorbellBytes || len(p) >= 8000 {
			t.Fatalf("payload %d is %d bytes, limit %d (Postgres: < 8000)", i, len(p), notify.MaxDoorbellBytes)
		}
		d, err := notify.ParseDoorbell(p)
		if err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		if d.Kind != notify.BellNew || len(d.Rows) == 0 {
			t.Fatalf("payload %d: %+v", i, d)
		}
		got = append(got, d.Rows...)
	}
	if !reflect.DeepEqual(got, bell.Rows) {
		t.Fatalf("rows after split and parse differ (got %d, want %d)", len(got), len(bell.Rows))
	}
	for i, r := range got {
		if r.User != rows[i].UserID || r.ID != rows[i].ID || r.Unread != unread[r.User] {
			t.Fatalf("row %d = %+v", i, r)
		}
	}

	t.Run("no rows, no payload", func(t *testing.T) {
		p, err := notify.Doorbell{Kind: notify.BellNew}.Payloads()
		if err != nil || len(p) != 0 {
			t.Fatalf("Payloads() = %q, %v", p, err)
		}
	})
}

func TestDoorbellEventTooLarge(t *testing.T) {
	data, _ := json.Marshal(strings.Repeat("x", 8000))
	big := notify.Doorbell{Kind: notify.BellEvent, User: 1, Event: &notify.Event{Type: "big", Data: data}}
	if _, err := big.Payloads(); !errors.Is(err, notify.ErrDoorbellTooLarge) {
		t.Fatalf("Payloads() error = %v, want ErrDoorbellTooLarge", err)
	}
	// The largest event that fits is sent as is.
	overhead := len(`{"k":"e","u":1,"e":{"type":"big","data":""}}`)
	data, _ = json.Marshal(strings.Repeat("x", notify.MaxDoorbellBytes-overhead))
	fits := notify.Doorbell{Kind: notify.BellEvent, User: 1, Event: &notify.Event{Type: "big", Data: data}}
	p, err := fits.Payloads()
	if err != nil || len(p) != 1 || len(p[0]) != notify.MaxDoorbellBytes {
		t.Fatalf("Payloads() = %d payloads, %v; want one of %d bytes", len(p), err, notify.MaxDoorbellBytes)
	}
}

func TestParseDoorbellRejects(t *testing.T) {
	cases := map[string]string{
		"not json":      `nope`,
		"unknown kind":  `{"k":"z","u":1}`,
		"no kind":       `{"u":1}`,
		"event no body": `{"k":"e","u":1}`,
		"short row":     `{"k":"n","r":[[1,2]]}`,
		"text row":      `{"k":"n","r":[["a","b","c"]]}`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			if d, err := notify.ParseDoorbell(payload); err == nil {
				t.Fatalf("ParseDoorbell(%q) = %+v, want an error", payload, d)
			}
		})
	}
}
