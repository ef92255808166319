package testkit

import (
	"encoding/json"
	"fmt"

	"github.com/notifyd/notifyd/notify"
)

// Frame is any message of the server on a socket (docs/protocol.md), with
// the fields the suites look at.
type Frame struct {
	Type         string               `json:"type"`
	User         *notify.User         `json:"user"`
	UnreadCount  *int64               `json:"unread_count"`
	Notification *notify.Notification `json:"notification"`
	ID           int64                `json:"id"`
	UpToID       *int64               `json:"up_to_id"`
	Event        *notify.Event        `json:"event"`
	// Raw is the message as received.
	Raw json.RawMessage `json:"-"`
}

// decodeFrame parses a text message; a notification message without its
// notification is an error, as a client could not show it.
func decodeFrame(data []byte) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return Frame{}, fmt.Errorf("server sent %q: %w", data, err)
	}
	if f.Type == "notification" && f.Notification == nil {
		return Frame{}, fmt.Errorf("notification message without a notification: %q", data)
	}
	f.Raw = data
	return f, nil
}

// SecretAuth is the auth message with a session secret; afterID < 0 leaves
// after_id out (the socket starts at the user's newest id), 0 replays the
// whole history.
func SecretAuth(secret string, afterID int64) string { return authMsg("secret", secret, afterID) }

// TokenAuth is the auth message with a token; afterID as in SecretAuth.
func TokenAuth(token string, afterID int64) string { return authMsg("token", token, afterID) }

// Refresh is the refresh message with a new token.
func Refresh(token string) string { return fmt.Sprintf(`{"type":"refresh","token":%q}`, token) }

func authMsg(kind, cred string, afterID int64) string {
	if afterID < 0 {
		return fmt.Sprintf(`{"type":"auth",%q:%q}`, kind, cred)
	}
	return fmt.Sprintf(`{"type":"auth",%q:%q,"after_id":%d}`, kind, cred, afterID)
}
