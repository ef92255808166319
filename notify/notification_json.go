package notify

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends n encoded as encoding/json encodes it (the same
// bytes: TestNotificationAppendJSON and FuzzNotificationAppendJSON hold it
// to json.Marshal), without reflection and without allocating. A
// notification is encoded once per frame and once per create answer, on
// the publish path of every request; json.Marshal cost three allocations
// and about a microsecond each time.
//
// What json.Marshal would refuse or rewrite is left to it: data that is
// not compact, or holds characters it escapes (<, >, &, U+2028, U+2029),
// and times outside years 0-9999. json.Marshal fails only on invalid data
// or such a time, and then so does AppendJSON, with its error.
func (n Notification) AppendJSON(b []byte) ([]byte, error) {
	if !plainData(n.Data) || !jsonTime(n.CreatedAt) || (n.ReadAt != nil && !jsonTime(*n.ReadAt)) {
		return appendMarshalled(b, n)
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, n.ID, 10)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, n.Title)
	b = append(b, `,"content":`...)
	b = appendJSONString(b, n.Content)
	b = append(b, `,"style":`...)
	b = appendJSONString(b, string(n.Style))
	b = append(b, `,"url":`...)
	if n.URL == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *n.URL)
	}
	b = append(b, `,"data":`...)
	if len(n.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, n.Data...)
	}
	b = append(b, `,"read":`...)
	b = strconv.AppendBool(b, n.Read)
	b = append(b, `,"created_at":"`...)
	b = n.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","read_at":`...)
	if n.ReadAt == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = n.ReadAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// Longest forms of what AppendJSON writes without escaping (jsonSize).
const (
	// maxIntJSON is the longest int64.
	maxIntJSON = len("-9223372036854775808")
	// notificationJSONFixed is the text AppendJSON writes whatever n holds,
	// with empty strings and without the values of id, url, data and the
	// times.
	notificationJSONFixed = len(`{"id":,"title":"","content":"","style":"","url":,"data":,"read":false,"created_at":"","read_at":}`)
)

// jsonSize is at least the length of what AppendJSON appends for n when
// none of its strings needs escaping, the usual case, so that a buffer of
// that size is never grown (a character escaped still is, by append).
// Numbers and times are counted at their longest.
func (n Notification) jsonSize() int {
	size := notificationJSONFixed + maxIntJSON + len(n.Title) + len(n.Content) + len(n.Style) +
		len(time.RFC3339Nano) + max(len(n.Data), len("null"))
	if n.URL != nil {
		size += len(`""`) + len(*n.URL)
	} else {
		size += len("null")
	}
	if n.ReadAt != nil {
		size += len(`""`) + len(time.RFC3339Nano)
	} else {
		size += len("null")
	}
	return size
}

// appendMarshalled appends what json.Marshal makes of n. It takes its own
// copy of n, which escapes to the heap: in AppendJSON it would, on every
// call.
func appendMarshalled(b []byte, n Notification) ([]byte, error) {
	enc, err := json.Marshal(n)
	return append(b, enc...), err
}

// jsonTime reports whether time.Time.MarshalJSON writes t as RFC 3339
// with nanoseconds (it refuses a year outside 0-9999).
func jsonTime(t time.Time) bool {
	y := t.Year()
	_, off := t.Zone()
	return y >= 0 && y <= 9999 && off%60 == 0 && off > -24*3600 && off < 24*3600
}

// plainData reports whether json.Marshal writes the raw JSON data as it
// is: valid, compact, and without a character it escapes for HTML. Data
// is compacted when stored (Normalize), so that is the usual case.
func plainData(data json.RawMessage) bool {
	if len(data) == 0 {
		return true
	}
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case c == '<' || c == '>' || c == '&' || c == 0xE2: // 0xE2 starts U+2028 and U+2029
			return false
		case inString:
			if escaped {
				escaped = false
			} else if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return false
		}
	}
	return json.Valid(data)
}

// appendJSONString appends s quoted as encoding/json does with its
// default HTML escaping: <, > and & as \u003c..., control characters
// as \n, \t... or \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
