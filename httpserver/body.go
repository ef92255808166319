package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// bodyMode tells decodeJSON whether a request must carry a body.
type bodyMode int

const (
	bodyRequired bodyMode = iota
	bodyOptional          // an empty body leaves dst as it is
)

// errTooLarge is the 413 of a body over limit bytes.
func errTooLarge(limit int64) error {
	return notify.Errorf(notify.ETOOLARGE, "body: must be at most %d bytes", limit)
}

// decodeJSON reads the request body into dst, a pointer to a struct. The
// whole body is read first, through the http.MaxBytesReader limitBody put
// in place, so a body over http.max_body_bytes is 413 whatever it
// contains, before any validation.
// Then it must be one JSON object with only known fields; every other
// failure is a 400 whose message names the field when there is one.
func (s *responder) decodeJSON(c *gin.Context, dst any, mode bodyMode) error {
	_, err := s.decodeJSONBody(c, dst, mode)
	return err
}

// decodeJSONBody is decodeJSON that also returns the body it read, with
// blanks around it trimmed (what an idempotency key's request hash
// covers).
func (s *responder) decodeJSONBody(c *gin.Context, dst any, mode bodyMode) ([]byte, error) {
	r := c.Request
	if r.Body == nil {
		r.Body = http.NoBody
	}
	// Wrapping again costs nothing and keeps decodeJSON safe on its own.
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge(tooBig.Limit)
		}
		return nil, notify.Errorf(notify.EINVALID, "body: could not be read")
	}
	body = bytes.TrimSpace(body)
	// A body must be declared as JSON. A cross-site HTML form can only send
	// text/plain, urlencoded or multipart bodies without a CORS preflight,
	// so this is what stops a form from posting JSON-looking text (login
	// CSRF). An optional body that is absent needs no Content-Type.
	if (len(body) > 0 || mode == bodyRequired) && !isJSON(r.Header.Get("Content-Type")) {
		return nil, notify.Errorf(notify.EMEDIATYPE, "Content-Type: must be application/json")
	}
	return body, decodeBytes(body, dst, mode)
}

// decodeBytes decodes a trimmed body into dst (see decodeJSON).
func decodeBytes(body []byte, dst any, mode bodyMode) error {
	if len(body) == 0 {
		if mode == bodyOptional {
			return nil
		}
		return notify.Errorf(notify.EINVALID, "body: is required (a JSON object)")
	}
	if body[0] != '{' {
		return notify.Errorf(notify.EINVALID, "body: must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return notify.Errorf(notify.EINVALID, "body: unexpected data after the JSON object")
	}
	return nil
}

// isJSON reports whether a Content-Type header is application/json, with
// at most a charset=utf-8 parameter (compared case-insensitively).
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// decodeError turns an encoding/json error into a client-safe EINVALID
// error naming the field or the position.
func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return notify.Errorf(notify.EINVALID, "body: invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return notify.Errorf(notify.EINVALID, "body: must be a JSON object")
		}
		kind := ""
		if typ.Type != nil {
			kind = typ.Type.Kind().String()
		}
		return notify.Errorf(notify.EINVALID, "%s: must be %s", typ.Field, jsonKind(kind))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return notify.Errorf(notify.EINVALID, "body: invalid JSON (unexpected end)")
	}
	// encoding/json has no error type for unknown fields; its message is
	// `json: unknown field "name"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		if len(name) > 64 {
			// Cut on a rune boundary: half a character would be invalid
			// UTF-8 in the message (found by FuzzDecodeNotification).
			cut := 64
			for cut > 0 && !utf8.RuneStart(name[cut]) {
				cut--
			}
			name = name[:cut] + "..."
		}
		return notify.Errorf(notify.EINVALID, "%s: unknown field", name)
	}
	return notify.Errorf(notify.EINVALID, "body: invalid JSON")
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}
