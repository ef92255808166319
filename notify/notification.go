package notify

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on notification fields, counted in Unicode code points.
const (
	MaxTitleLen   = 200
	MaxContentLen = 4000
)

// Style tells the frontend how to present a notification.
type Style string

// The styles a notification can have; the database enforces the same set.
const (
	StyleInfo    Style = "info"
	StyleWarning Style = "warning"
	StyleError   Style = "error"
)

// Valid reports whether s is one of the known styles.
func (s Style) Valid() bool {
	switch s {
	case StyleInfo, StyleWarning, StyleError:
		return true
	}
	return false
}

// Notification is a stored message for one user. UserID is not part of the
// JSON: a client only ever sees its own notifications. URL and Data are
// null when the publisher gave none.
type Notification struct {
	ID        int64           `json:"id"`
	UserID    int64           `json:"-"`
	Title     string          `json:"title"`
	Content   string          `json:"content"`
	Style     Style           `json:"style"`
	URL       *string         `json:"url"`
	Data      json.RawMessage `json:"data"`
	Read      bool            `json:"read"`
	CreatedAt time.Time       `json:"created_at"`
	ReadAt    *time.Time      `json:"read_at"`
}

// NewNotification is what a publisher asks to store. The server only
// decodes it; the Go client (package client) encodes it, and omitempty
// leaves out what is unset, as the API's spec wants (a style of "" is not
// one of its values; absent is info).
type NewNotification struct {
	Title   string `json:"title"`
	Content string `json:"content,omitempty"`
	Style   Style  `json:"style,omitempty"`
	// URL is what the notification links to (link.go); "" for nothing.
	URL string `json:"url,omitempty"`
	// Data is the app's own JSON object, returned as given; nil for none.
	Data json.RawMessage `json:"data,omitempty"`
}

// Normalize fills defaults and validates n, returning an EINVALID error that
// names the offending field. Data is compacted (the JSON form every
// response carries) and null becomes none.
func (n *NewNotification) Normalize() error {
	if n.Style == "" {
		n.Style = StyleInfo
	}
	if err := ValidateText("title", n.Title, 1, MaxTitleLen); err != nil {
		return err
	}
	if err := ValidateText("content", n.Content, 0, MaxContentLen); err != nil {
		return err
	}
	if !n.Style.Valid() {
		return Errorf(EINVALID, "style: must be one of info, warning, error")
	}
	if err := ValidateURL("url", n.URL); err != nil {
		return err
	}
	data, err := normalizeData("data", n.Data)
	if err != nil {
		return err
	}
	n.Data = data
	return nil
}

// ValidateText checks that s is valid UTF-8 without NUL characters and that
// its length in code points is within [min, max]. The error names field.
func ValidateText(field, s string, min, max int) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s: must be valid UTF-8", field)
	}
	if strings.ContainsRune(s, 0) {
		return Errorf(EINVALID, "%s: must not contain NUL characters", field)
	}
	n := utf8.RuneCountInString(s)
	if n < min {
		if min == 1 {
			return Errorf(EINVALID, "%s: is required", field)
		}
		return Errorf(EINVALID, "%s: must be at least %d characters", field, min)
	}
	if n > max {
		return Errorf(EINVALID, "%s: must be at most %d characters", field, max)
	}
	return nil
}

// ListQuery selects a page of a user's notifications.
//
// Without After or Forward the page is newest first, with ids below Before
// (when set). With After set, or Forward, it is oldest first, ids above
// After: the forward catch-up a reconnecting client uses, from the start
// when After is 0.
type ListQuery struct {
	Limit      int
	Before     int64 // 0: no upper bound
	After      int64 // 0: not a forward query, unless Forward
	Forward    bool  // oldest first, ids above After, even when After is 0
	UnreadOnly bool
}

// IsForward reports whether q asks for the oldest first, ids above After.
func (q ListQuery) IsForward() bool { return q.Forward || q.After > 0 }

// Event is a live-only message (task progress...): pushed to open sockets,
// never stored.
type Event struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// MaxEventDataBytes bounds the encoded data of an event.
const MaxEventDataBytes = 16 << 10

// Validate checks the event type and size.
func (e Event) Validate() error {
	if !validEventType(e.Type) {
		return Errorf(EINVALID, "type: must match ^[a-z][a-z0-9_]{0,63}$")
	}
	if len(e.Data) > MaxEventDataBytes {
		return Errorf(EINVALID, "data: must be at most %d bytes encoded", MaxEventDataBytes)
	}
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return Errorf(EINVALID, "data: must be a JSON value")
	}
	return nil
}

func validEventType(t string) bool {
	if len(t) == 0 || len(t) > 64 || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
