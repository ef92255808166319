package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxAnswer bounds an answer body read by the client.
const maxAnswer = 1 << 20

// retry says which failures a call may be repeated after.
type retry int

const (
	// retryUnavailable: only a 503 (the server did nothing it could not
	// do again: a session, an event).
	retryUnavailable retry = iota
	// retryAlways: also a connection error or a timeout, where the
	// request may or may not have been carried out (idempotent calls:
	// PUT, and creates with their Idempotency-Key).
	retryAlways
)

// do sends method path with body (JSON, nil for none) and headers, decodes
// a 2xx answer into out (when not nil), and retries as r allows. It
// returns the status of the answer.
func (c *Client) do(ctx context.Context, method, path string, body any, header http.Header, out any, r retry) (int, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, fmt.Errorf("client: encode %s %s: %w", method, path, err)
		}
	}
	wait := c.minBackoff
	for attempt := 0; ; attempt++ {
		status, err := c.once(ctx, method, path, payload, header, out)
		if err == nil || attempt >= c.retries || !retryable(err, r) || ctx.Err() != nil {
			return status, err
		}
		d := wait
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > d {
			d = e.RetryAfter
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return status, err
		}
		wait = min(2*wait, c.maxBackoff)
	}
}

// retryable reports whether err may be retried under r.
func retryable(err error, r retry) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusServiceUnavailable
	}
	return r == retryAlways // a transport error: the answer was lost
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, method, path string, payload []byte, header http.Header, out any) (int, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("client: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, answerError(resp, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("client: %s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// answerError builds the *Error of a non-2xx answer.
func answerError(resp *http.Response, data []byte) *Error {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &body) // best effort: a proxy may answer in HTML
	e := &Error{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}
