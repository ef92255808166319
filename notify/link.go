package notify

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits of what a notification links to and carries for the app.
const (
	MaxURLLen    = 2048    // bytes
	MaxDataBytes = 4 << 10 // encoded, after compaction
)

// ValidateURL checks what a notification links to: "" (nothing), an
// absolute http:// or https:// URL with a host, or a path on the app's own
// site starting with a single "/". At most MaxURLLen bytes, valid UTF-8, no
// control characters and no backslash. Anything else — javascript:,
// data:, a protocol-relative //host, a relative path — is refused, so the
// inbox can put it in an href without further thought. Browsers read "/\\"
// like "//", hence no backslash anywhere.
func ValidateURL(field, u string) error {
	if u == "" {
		return nil
	}
	bad := func(why string) error { return Errorf(EINVALID, "%s: %s", field, why) }
	if len(u) > MaxURLLen {
		return bad("must be at most 2048 characters")
	}
	if !utf8.ValidString(u) {
		return bad("must be valid UTF-8")
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return bad("must not contain control characters")
		}
		if r == '\\' {
			return bad("must not contain a backslash")
		}
	}
	if strings.HasPrefix(u, "/") {
		if strings.HasPrefix(u, "//") {
			return bad("must be an absolute http(s) URL or a path starting with a single /")
		}
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (!strings.EqualFold(p.Scheme, "http") && !strings.EqualFold(p.Scheme, "https")) || p.Host == "" {
		return bad("must be an absolute http(s) URL or a path starting with a single /")
	}
	return nil
}

// normalizeData checks the app's data of a notification: absent or null
// (none), else a JSON object of at most MaxDataBytes once compacted. It
// returns the compacted object, keys and values as given.
func normalizeData(field string, data json.RawMessage) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, nil
	}
	if trimmed[0] != '{' {
		return nil, Errorf(EINVALID, "%s: must be a JSON object", field)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, trimmed); err != nil {
		return nil, Errorf(EINVALID, "%s: must be a JSON object", field)
	}
	if buf.Len() > MaxDataBytes {
		return nil, Errorf(EINVALID, "%s: must be at most %d bytes encoded", field, MaxDataBytes)
	}
	return buf.Bytes(), nil
}
