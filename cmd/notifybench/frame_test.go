package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/client"
)

func TestParseNotification(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		id    int64
		stamp int64
		ok    bool
	}{
		{"notifyd layout",
			`{"type":"notification","notification":{"id":42,"title":"bench","content":"bench t=1700000000123456789 seq=7","style":"info","read":false,"created_at":"2026-01-01T00:00:00Z","read_at":null},"unread_count":3}`,
			42, 1700000000123456789, true},
		{"other key order falls back to a decode",
			`{"unread_count":3,"notification":{"title":"bench","content":"bench t=55 seq=1","id":9},"type":"notification"}`,
			9, 55, true},
		{"notification without a stamp",
			`{"type":"notification","notification":{"id":5,"title":"Task finished","content":""},"unread_count":1}`,
			5, 0, true},
		{"updated is not a new notification",
			`{"type":"notification_updated","notification":{"id":5,"content":"bench t=1 seq=1"},"unread_count":1}`,
			0, 0, false},
		{"pong", `{"type":"pong"}`, 0, 0, false},
		{"garbage", `not json`, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, stamp, ok := parseNotification([]byte(tt.frame))
			if id != tt.id || stamp != tt.stamp || ok != tt.ok {
				t.Errorf("parseNotification = (%d, %d, %v), want (%d, %d, %v)", id, stamp, ok, tt.id, tt.stamp, tt.ok)
			}
		})
	}
}

func TestRawFrameParses(t *testing.T) {
	// The baselines must send what the client parses on its fast path.
	s := &rawServer{users: map[int64]map[*rawConn]struct{}{}}
	rc := &rawConn{send: make(chan []byte, 1), kill: func(error) {}}
	s.register(3, rc)
	api := newPublishAPI("key", 3, &counterStore{}, s)
	if _, err := api.notify(t.Context(), 3, bareRequest{Title: "bench", Content: contentPrefix + "123 seq=1", Style: "info"}); err != nil {
		t.Fatal(err)
	}
	frame := <-rc.send
	if !strings.HasPrefix(string(frame), `{"type":"notification","notification":{"id":1,`) {
		t.Fatalf("raw frame does not have notifyd's layout: %s", frame)
	}
	id, got, ok := parseNotification(frame)
	if !ok || id != 1 || got != 123 {
		t.Errorf("parseNotification(raw frame) = (%d, %d, %v), want (1, 123, true)", id, got, ok)
	}
}

func TestErrorKind(t *testing.T) {
	// A real dial error, wrapped by the websocket library.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, _, refused := websocket.Dial(t.Context(), "ws://"+addr+"/ws", nil)

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"api error", &client.Error{Status: 503, Code: "unavailable"}, "503 unavailable"},
		{"api error without body", &client.Error{Status: 502}, "502"},
		{"timeout", errors.Join(errors.New("dial"), context.DeadlineExceeded), "timeout"},
		{"refused websocket dial", refused, "connection refused"},
		{"long text is cut", errors.New(strings.Repeat("x", 100)), "other: " + strings.Repeat("x", 60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorKind(tt.err); got != tt.want {
				t.Errorf("errorKind = %q, want %q", got, tt.want)
			}
		})
	}
}
