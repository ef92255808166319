package httpserver

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// Idempotency-Key on the publisher's create routes (notify/idempotency.go).

const (
	// idempotencyHeader names the key a publisher retries with.
	idempotencyHeader = "Idempotency-Key"
	// replayedHeader marks an answer replayed from an earlier request.
	replayedHeader = "Idempotent-Replayed"
)

// idempotency reads the Idempotency-Key of a create request whose
// (trimmed) body is body. It returns nil without a key. The request hash
// covers the method, the path (which names the user) and the body, byte
// for byte: a retry must send the same request. answer renders what the
// route answers from the rows created.
func idempotency(c *gin.Context, body []byte, answer func([]notify.Inserted) any) (*notify.Idempotency, error) {
	values := c.Request.Header.Values(idempotencyHeader)
	if len(values) == 0 {
		return nil, nil
	}
	if len(values) > 1 {
		return nil, notify.Errorf(notify.EINVALID, "Idempotency-Key: must be given once")
	}
	key := values[0]
	if err := notify.ValidateIdempotencyKey(key); err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
	h.Write(body)
	return &notify.Idempotency{
		Scope:       publisherScope(c),
		Key:         key,
		RequestHash: h.Sum(nil),
		Answer: func(rows []notify.Inserted) (int, []byte) {
			return http.StatusCreated, mustJSON(answer(rows))
		},
	}, nil
}

// writeReplayed writes the stored answer of an earlier request with the
// same key.
func writeReplayed(c *gin.Context, r *notify.Replayed) {
	c.Header(replayedHeader, "true")
	c.Data(r.Status, "application/json; charset=utf-8", r.Body)
}

// mustJSON encodes the answer types of the create routes, which cannot
// fail to encode (no channels, funcs or NaN); writeJSON encodes the same
// values, so a first answer and its replay are the same bytes.
func mustJSON(v any) []byte {
	if b, ok := v.(encodedJSON); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	return b
}
