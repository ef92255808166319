package testkit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// ErrorJSON is the body of every error answer.
type ErrorJSON struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the "error" member of an error answer.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Want fails unless the status is status.
func (r Response) Want(tb testing.TB, status int) Response {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// Decode decodes the JSON body into v, failing on a Content-Type other
// than JSON and on unknown fields, so tests notice shape changes.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("Content-Type = %q, want application/json (status %d, body %s)", ct, r.Status, r.Body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// DecodeSome decodes the fields of the JSON body that v names, ignoring
// the others: for end-to-end tests that read a part of an answer. An
// empty body leaves v as it is.
func (r Response) DecodeSome(tb testing.TB, v any) {
	tb.Helper()
	if len(r.Body) == 0 {
		return
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %q: %v", r.Body, err)
	}
}

// WantError checks an error answer: its status, its code, a message, and
// — when field is not empty — that the message names the field
// ("field: ...").
func (r Response) WantError(tb testing.TB, status int, code, field string) ErrorJSON {
	tb.Helper()
	r.Want(tb, status)
	var e ErrorJSON
	r.Decode(tb, &e)
	if e.Error.Code != code {
		tb.Fatalf("error code = %q, want %q (message %q)", e.Error.Code, code, e.Error.Message)
	}
	if e.Error.Message == "" {
		tb.Fatalf("error without a message: %s", r.Body)
	}
	if field != "" && !strings.HasPrefix(e.Error.Message, field+":") {
		tb.Fatalf("error message %q does not name field %q", e.Error.Message, field)
	}
	return e
}
