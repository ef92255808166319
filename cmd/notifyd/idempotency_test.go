package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/testkit"
)

// TestIdempotentRetryAfterLostResponse is what the Idempotency-Key is for,
// end to end through run(): the publisher's request is committed and
// pushed, but its connection is cut before it reads the answer; it
// retries with the key and gets the first answer, and the user ends up
// with exactly one row and one frame per socket.
func TestIdempotentRetryAfterLostResponse(t *testing.T) {
	in := start(t, testEnv(t))
	_, secret := in.external(t, "alice")
	tabs := []*testkit.Socket{in.connect(t, secret), in.connect(t, secret)}

	const body = `{"title":"Video ready","url":"/videos/7"}`
	path := "/api/publisher/users/alice/notifications"
	conn, err := net.Dial("tcp", strings.TrimPrefix(in.HTTPURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: notifyd\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Idempotency-Key: job-7-done\r\nContent-Length: %d\r\n\r\n%s", path, testAPIKey, len(body), body)
	// The commit is done once the frames arrive; the answer is never read.
	var id int64
	for i, tab := range tabs {
		n := tab.NextOfType(t, "notification").Notification
		if i == 0 {
			id = n.ID
		} else if n.ID != id {
			t.Fatalf("tab %d got id %v, tab 0 got %v", i, n.ID, id)
		}
	}
	conn.Close()

	req, err := http.NewRequest("POST", in.HTTPURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "job-7-done")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "true" ||
		!bytes.Contains(answer, fmt.Appendf(nil, `"id":%d,`, id)) {
		t.Fatalf("retry: %d %q replayed=%q, want 201 with id %v", resp.StatusCode, answer, resp.Header.Get("Idempotent-Replayed"), id)
	}

	var list struct {
		Notifications []struct {
			ID int64 `json:"id"`
		} `json:"notifications"`
	}
	in.api(t, "GET", "/api/notifications", secret, nil, &list)
	if len(list.Notifications) != 1 || list.Notifications[0].ID != id {
		t.Fatalf("stored %+v, want only id %v", list.Notifications, id)
	}
	for i, tab := range tabs {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		m, err := tab.ReadCtx(ctx)
		cancel()
		if err == nil {
			t.Fatalf("tab %d got a second message after the retry: %s", i, m.Raw)
		}
	}
}
