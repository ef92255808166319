package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
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
	body, err := s.readBody(c)
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
	if (len(body) > 0 || mode == bodyRequired) && !isJSON(c.Request.Header.Get("Content-Type")) {
		return nil, notify.Errorf(notify.EMEDIATYPE, "Content-Type: must be application/json")
	}
	return body, s.decodeBytes(body, dst, mode)
}

// readBody reads the whole request body, failing with an
// *http.MaxBytesError past http.max_body_bytes. On a server, limitBody has
// already put an http.MaxBytesReader in place, which also has the
// connection closed after the 413; readAll checks the limit itself rather
// than allocating a second one per request. A declared length (limitBody
// has refused one over the limit) sizes the buffer, so that the usual body
// is read with one allocation of its size rather than io.ReadAll's 512
// bytes and more.
func (s *responder) readBody(c *gin.Context) ([]byte, error) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	size := 512 // io.ReadAll's first buffer
	if n := r.ContentLength; n > 0 && n <= s.maxBody {
		size = int(n) + 1 // one more, so that reading to io.EOF does not grow it
	}
	return readAll(r.Body, make([]byte, 0, size), s.maxBody)
}

// readAll is io.ReadAll into buf, failing with an *http.MaxBytesError once
// more than limit bytes are read.
func readAll(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &http.MaxBytesError{Limit: limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow, as io.ReadAll does
		}
	}
}

// decodeBytes decodes a trimmed body into dst (see decodeJSON).
func (s *responder) decodeBytes(body []byte, dst any, mode bodyMode) error {
	if len(body) == 0 {
		if mode == bodyOptional {
			return nil
		}
		return notify.Errorf(notify.EINVALID, "body: is required (a JSON object)")
	}
	if body[0] != '{' {
		return notify.Errorf(notify.EINVALID, "body: must be a JSON object")
	}
	d := s.decoders.get()
	d.body.Reset(body)
	start := d.dec.InputOffset()
	err := d.dec.Decode(dst)
	read := d.dec.InputOffset() - start
	if err == nil && read == int64(len(body)) {
		s.decoders.put(d, len(body))
	}
	if err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			syntax.Offset -= start // the stream's offset: make it the body's
		}
		return decodeError(err)
	}
	// The body is trimmed: the object must end where it ends.
	if read != int64(len(body)) {
		return notify.Errorf(notify.EINVALID, "body: unexpected data after the JSON object")
	}
	return nil
}

// jsonDecoder is a json.Decoder, rejecting unknown fields, over a reader
// that can be pointed at the next body. A Decoder reads a stream of
// values: bodies given one after the other, each read to its end, are
// that stream, so one decoder serves request after request, and its
// struct, its read buffer and its scanner's state (about 1 KB, the
// largest allocation of a publish request's decoding) are allocated once.
type jsonDecoder struct {
	body bytes.Reader
	dec  *json.Decoder
}

// jsonDecoders are the decoders of a responder waiting to be reused. Its
// zero value is ready.
type jsonDecoders struct {
	pool sync.Pool
}

// maxPooledBody bounds the bodies whose decoder is kept: a decoder's
// buffer is as large as the largest body it read, which a pool should not
// hold on to (http.max_body_bytes may be large).
const maxPooledBody = 4 << 10

func (p *jsonDecoders) get() *jsonDecoder {
	if d, ok := p.pool.Get().(*jsonDecoder); ok {
		return d
	}
	d := &jsonDecoder{}
	d.dec = json.NewDecoder(&d.body)
	d.dec.DisallowUnknownFields()
	return d
}

// put keeps d for another body. Call it only once d has read a body of n
// bytes to its end without an error: nothing of it is then left in the
// decoder's buffer, and the decoder has not failed (a failed Decoder
// fails every later call).
func (p *jsonDecoders) put(d *jsonDecoder, n int) {
	if n > maxPooledBody {
		return
	}
	d.body.Reset(nil) // keep no reference to the request's body
	p.pool.Put(d)
}

// isJSON reports whether a Content-Type header is application/json, with
// at most a charset=utf-8 parameter (compared case-insensitively).
func isJSON(contentType string) bool {
	if strings.EqualFold(contentType, "application/json") {
		return true // what nearly every client sends: no parsing, no map
	}
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
