package notify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Frame is one outgoing websocket message, serialised once per publish and
// shared by every socket it goes to. ID is the notification id of a
// "notification" frame, used to keep per-user order and drop duplicates; it
// is 0 for every other message.
type Frame struct {
	ID   int64
	Data []byte
	// Type is the message's "type" ("notification", "event"...), the
	// label of notifyd_ws_frames_delivered_total.
	Type string
	// At is when the notification was committed, stamped by Service; the
	// websocket writer measures the publish→socket latency from it. Zero
	// for frames that measure nothing.
	At time.Time
}

// The outgoing message shapes of the websocket protocol (docs/protocol.md).
type (
	helloMsg struct {
		Type        string `json:"type"`
		User        User   `json:"user"`
		UnreadCount int64  `json:"unread_count"`
	}
	deletedMsg struct {
		Type        string `json:"type"`
		ID          int64  `json:"id"`
		UnreadCount int64  `json:"unread_count"`
	}
	readAllMsg struct {
		Type        string `json:"type"`
		UpToID      *int64 `json:"up_to_id"`
		UnreadCount int64  `json:"unread_count"`
	}
	eventMsg struct {
		Type  string `json:"type"`
		Event Event  `json:"event"`
	}
	countMsg struct {
		Type        string `json:"type"`
		UnreadCount int64  `json:"unread_count"`
	}
)

// mustJSON encodes values whose types cannot fail to encode (no channels,
// funcs, or unsupported floats); a failure is a programming error.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("notify: encode %T: %v", v, err))
	}
	return b
}

// HelloFrame is the first message after a successful auth, once per
// connect. It is built in one buffer by User.appendJSON, the bytes
// json.Marshal writes (TestHelloFrame holds it to them): json.Marshal of
// the message and of the user inside it cost 8 allocations; a user
// created_at json.Marshal refuses (a year past 9999) is left to it.
func HelloFrame(u User, unread int64) []byte {
	if !jsonTime(u.CreatedAt) {
		return mustJSON(helloMsg{Type: "hello", User: u, UnreadCount: unread})
	}
	b := make([]byte, 0, 160+len(u.Username)+len(u.ExternalID)+len(u.Name))
	b = append(b, `{"type":"hello","user":`...)
	b = u.appendJSON(b)
	b = append(b, `,"unread_count":`...)
	b = strconv.AppendInt(b, unread, 10)
	return append(b, '}')
}

// NotificationFrame announces a new notification.
func NotificationFrame(n Notification, unread int64) Frame {
	return Frame{ID: n.ID, Type: "notification", Data: notificationMsgJSON("notification", n, unread)}
}

// UpdatedFrame announces a read or unread change.
func UpdatedFrame(n Notification, unread int64) Frame {
	return Frame{Type: "notification_updated", Data: notificationMsgJSON("notification_updated", n, unread)}
}

// notificationMsgJSON is the message {"type","notification",
// "unread_count"}, built in one buffer by Notification.AppendJSON (the
// bytes json.Marshal would write for such a struct): one allocation per
// notification instead of three, however many sockets get it, of the
// size the message needs (jsonSize).
func notificationMsgJSON(typ string, n Notification, unread int64) []byte {
	size := len(`{"type":"","notification":,"unread_count":}`) + len(typ) + n.jsonSize() + maxIntJSON
	b := make([]byte, 0, size)
	b = append(b, `{"type":"`...)
	b = append(b, typ...) // one of ours: nothing to escape
	b = append(b, `","notification":`...)
	b, err := n.AppendJSON(b)
	if err != nil {
		panic(fmt.Sprintf("notify: encode notification %d: %v", n.ID, err)) // as mustJSON
	}
	b = append(b, `,"unread_count":`...)
	b = strconv.AppendInt(b, unread, 10)
	return append(b, '}')
}

// DeletedFrame announces a deletion.
func DeletedFrame(id, unread int64) Frame {
	return Frame{Type: "notification_deleted", Data: mustJSON(deletedMsg{Type: "notification_deleted", ID: id, UnreadCount: unread})}
}

// ReadAllFrame announces a read-all; upTo is nil when every notification
// was marked.
func ReadAllFrame(upTo *int64, unread int64) Frame {
	return Frame{Type: "notifications_read", Data: mustJSON(readAllMsg{Type: "notifications_read", UpToID: upTo, UnreadCount: unread})}
}

// EventFrame carries a live-only event.
func EventFrame(e Event) Frame {
	return Frame{Type: "event", Data: mustJSON(eventMsg{Type: "event", Event: e})}
}

// UnreadCountFrame tells a socket the fresh unread count after changes it
// may have missed.
func UnreadCountFrame(unread int64) Frame {
	return Frame{Type: "unread_count", Data: mustJSON(countMsg{Type: "unread_count", UnreadCount: unread})}
}

// PongFrame answers a client {"type":"ping"}.
func PongFrame() []byte { return []byte(`{"type":"pong"}`) }

// ResyncFrame tells a resuming client that the backlog is too long to
// replay and it must reload over HTTP.
func ResyncFrame() []byte { return []byte(`{"type":"resync"}`) }
