package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/client"
)

// contentPrefix starts the content of every notification the tool
// publishes: "bench t=<unix nanos> seq=<n>". The socket that receives it
// computes the latency from t.
const contentPrefix = "bench t="

var (
	notificationType = []byte(`"type":"notification",`)
	notificationKey  = []byte(`"notification":{`)
	idKey            = []byte(`"id":`)
	stampKey         = []byte(contentPrefix)
)

// parseNotification returns the id and publish stamp of a "notification"
// frame; ok is false for every other message. The fast path scans the bytes
// notifyd writes (type first, id first in the notification) because a JSON
// decode per frame would cost the client a noticeable share of the CPU the
// server needs on this 2-core box; other layouts fall back to a full decode.
func parseNotification(data []byte) (id, stamp int64, ok bool) {
	if bytes.Contains(data, notificationType) {
		if i := bytes.Index(data, notificationKey); i >= 0 {
			rest := data[i+len(notificationKey):]
			if bytes.HasPrefix(rest, idKey) {
				id, okID := leadingInt(rest[len(idKey):])
				stamp, _ := stampAfter(rest)
				if okID {
					return id, stamp, true
				}
			}
		}
	}
	var m struct {
		Type         string `json:"type"`
		Notification struct {
			ID      int64  `json:"id"`
			Content string `json:"content"`
		} `json:"notification"`
	}
	if !bytes.Contains(data, []byte("notification")) || json.Unmarshal(data, &m) != nil || m.Type != "notification" {
		return 0, 0, false
	}
	stamp, _ = stampAfter([]byte(m.Notification.Content))
	return m.Notification.ID, stamp, true
}

// stampAfter finds "bench t=<digits>" in b.
func stampAfter(b []byte) (int64, bool) {
	i := bytes.Index(b, stampKey)
	if i < 0 {
		return 0, false
	}
	return leadingInt(b[i+len(stampKey):])
}

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) (int64, bool) {
	n := 0
	for n < len(b) && n < 19 && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	if n == 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b[:n]), 10, 64)
	return v, err == nil
}

// frameType returns the "type" of a server message, or "" when it has none.
func frameType(data []byte) string {
	var m struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	return m.Type
}

// errorKind maps an error to a short, stable label for the error counts,
// so that thousands of failures with distinct ports in their text add up.
func errorKind(err error) string {
	var ce *client.Error
	var ne net.Error
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &ce):
		if ce.Code != "" {
			return strconv.Itoa(ce.Status) + " " + ce.Code
		}
		return strconv.Itoa(ce.Status)
	case websocket.CloseStatus(err) != -1:
		return "close " + strconv.Itoa(int(websocket.CloseStatus(err)))
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port available"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, net.ErrClosed):
		return "connection closed"
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "upgrade refused") || strings.HasPrefix(msg, "first message") {
		return msg
	}
	if strings.Contains(msg, "EOF") {
		return "EOF"
	}
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return "other: " + msg
}
