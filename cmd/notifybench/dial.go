package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// dialAuth performs the protocol's opening: upgrade, auth message, hello.
// afterID >= 0 is sent as after_id (a resume); the hello's unread count is
// returned.
func (g *group) dialAuth(ctx context.Context, s socketSpec, afterID int64) (*websocket.Conn, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	wsURL := g.wsURL
	if s.WS != "" {
		wsURL = s.WS
	}
	c, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPClient:      g.hc,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, 0, fmt.Errorf("upgrade refused: http %d", resp.StatusCode)
		}
		return nil, 0, err
	}
	c.SetReadLimit(1 << 20)
	msg := authMsg{Type: "auth", Secret: s.Secret}
	if afterID >= 0 {
		msg.AfterID = &afterID
	}
	auth, err := json.Marshal(msg)
	if err != nil {
		c.CloseNow()
		return nil, 0, err
	}
	if err := c.Write(ctx, websocket.MessageText, auth); err != nil {
		c.CloseNow()
		return nil, 0, err
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, 0, err
	}
	var hello struct {
		Type        string `json:"type"`
		UnreadCount int64  `json:"unread_count"`
	}
	if json.Unmarshal(data, &hello) != nil || hello.Type != "hello" {
		c.CloseNow()
		return nil, 0, fmt.Errorf("first message is %q, not hello", frameType(data))
	}
	return c, hello.UnreadCount, nil
}

// authMsg is the protocol's first message.
type authMsg struct {
	Type    string `json:"type"`
	Secret  string `json:"secret"`
	AfterID *int64 `json:"after_id,omitempty"`
}
