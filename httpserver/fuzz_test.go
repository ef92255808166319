package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// The FuzzDecode targets fuzz decodeJSON with each request body type, then
// the validation the handler applies to what was decoded. Every outcome
// must be one the API documents: the body is accepted, or refused with a
// 400 invalid_request (413 payload_too_large for a body over the limit)
// whose message is short, valid UTF-8 and names a field or the body —
// never a panic, never an internal error. An accepted body must be a JSON
// object, and encoding what was decoded and decoding it again must give
// the same value (nothing is half-read).
//
// Seed corpora are in testdata/fuzz/<FuzzName>/. CI runs each target for a
// short fixed time, for example
//
//	go test -run='^$' -fuzz='^FuzzDecodeNotification$' -fuzztime=30s ./httpserver/

func FuzzDecodeCredentials(f *testing.F) {
	// POST /api/users and POST /api/sessions.
	fuzzBody(f, bodyRequired, func(req *credentialsRequest) error {
		if err := notify.ValidateUsername(req.Username); err != nil {
			return err
		}
		return notify.ValidatePassword(req.Password)
	})
}

func FuzzDecodePublisherUser(f *testing.F) {
	// PUT /api/publisher/users/{external_id}.
	fuzzBody(f, bodyOptional, func(req *putUserRequest) error {
		if req.Name != nil {
			return notify.ValidateText("name", *req.Name, 0, notify.MaxNameLen)
		}
		return nil
	})
}

func FuzzDecodeNotification(f *testing.F) {
	// POST /api/publisher/users/{external_id}/notifications.
	fuzzBody(f, bodyRequired, func(req *notify.NewNotification) error {
		return req.Normalize()
	})
}

func FuzzDecodeBulk(f *testing.F) {
	// POST /api/publisher/notifications: the checks of
	// notify.Service.NotifyManyExternal.
	fuzzBody(f, bodyRequired, func(req *notifyManyRequest) error {
		if err := notify.ValidateBulkExternalIDs(req.UserIDs); err != nil {
			return err
		}
		nn := notify.NewNotification{Title: req.Title, Content: req.Content, Style: req.Style, URL: req.URL, Data: req.Data}
		return nn.Normalize()
	})
}

func FuzzDecodeEvent(f *testing.F) {
	// POST /api/publisher/users/{external_id}/events: the checks of event.
	fuzzBody(f, bodyRequired, func(req *eventRequest) error {
		e := notify.Event{Type: req.Type}
		if len(req.Data) > 0 && !bytes.Equal(req.Data, []byte("null")) {
			var buf bytes.Buffer
			if err := json.Compact(&buf, req.Data); err != nil {
				// Cannot happen: decodeJSON hands over valid JSON only.
				// Returned as is, so the fuzzer reports it if it does.
				return err
			}
			e.Data = buf.Bytes()
		}
		return e.Validate()
	})
}

func FuzzDecodeTask(f *testing.F) {
	// POST /api/tasks: duration_ms here, the name in notify.Tasks.Start.
	fuzzBody(f, bodyRequired, func(req *taskRequest) error {
		if _, err := taskDuration(req.DurationMS); err != nil {
			return err
		}
		return notify.ValidateText("name", req.Name, 1, 100)
	})
}

func FuzzDecodeReadAll(f *testing.F) {
	// POST /api/notifications/read-all: the body is optional.
	fuzzBody(f, bodyOptional, func(req *readAllRequest) error {
		if req.UpToID != nil && *req.UpToID <= 0 {
			return notify.Errorf(notify.EINVALID, "up_to_id: must be a positive integer id")
		}
		return nil
	})
}

// fuzzMaxBody is http.max_body_bytes in the fuzz targets: the default.
const fuzzMaxBody = 64 << 10

// fuzzBody fuzzes decodeJSON into a T followed by validate.
func fuzzBody[T any](f *testing.F, mode bodyMode, validate func(*T) error) {
	r := &responder{logger: slog.New(slog.DiscardHandler), maxBody: fuzzMaxBody}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req T
		err := decode(r, body, &req, mode)
		if err != nil {
			checkRefusal(t, body, err, len(body) > fuzzMaxBody)
			return
		}
		if len(body) > fuzzMaxBody {
			t.Fatalf("a body of %d bytes was read, limit %d", len(body), fuzzMaxBody)
		}
		if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && (trimmed[0] != '{' || !json.Valid(trimmed)) {
			t.Fatalf("%q accepted: not a JSON object", body)
		}
		// Round trip: what was decoded, encoded, decodes to the same.
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode %+v: %v", req, err)
		}
		if len(enc) <= fuzzMaxBody {
			var again T
			if err := decode(r, enc, &again, mode); err != nil {
				t.Fatalf("%q decoded to %s, which is refused: %v", body, enc, err)
			}
			if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
				t.Fatalf("%q decoded to %s, then to %s", body, enc, enc2)
			}
		}
		if err := validate(&req); err != nil {
			checkRefusal(t, body, err, false)
		}
	})
}

// decode runs decodeJSON on a request carrying body. decodeJSON reads
// only the request's body; a bare context keeps each run cheap, which the
// fuzzer's minimisation of large inputs needs.
func decode(r *responder, body []byte, dst any, mode bodyMode) error {
	c := &gin.Context{Request: &http.Request{Method: "POST", Body: io.NopCloser(bytes.NewReader(body)),
		Header: http.Header{"Content-Type": {"application/json"}}}}
	return r.decodeJSON(c, dst, mode)
}

// checkRefusal checks that err is a documented refusal of body: 413 when
// tooLarge, else 400, with a message that is safe to show.
func checkRefusal(t *testing.T, body []byte, err error, tooLarge bool) {
	t.Helper()
	var nerr *notify.Error
	if !errors.As(err, &nerr) {
		t.Fatalf("%q: %v is not a notify error (it would be a 500)", body, err)
	}
	want := notify.EINVALID
	if tooLarge {
		want = notify.ETOOLARGE
	}
	if nerr.Code != want {
		t.Fatalf("%q: code %s (%s), want %s", body, nerr.Code, nerr.Message, want)
	}
	if msg := nerr.Message; msg == "" || len(msg) > 200 || !utf8.ValidString(msg) {
		t.Fatalf("%q: message %q: want 1 to 200 bytes of valid UTF-8", body, msg)
	}
}
