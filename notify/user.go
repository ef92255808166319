package notify

import (
	"regexp"
	"strings"
	"time"
)

// User is an account that receives notifications.
type User struct {
	ID           int64     `json:"id"`
	Username     string    `json:"username"`
	PasswordHash string    `json:"-"` // empty for users created by a publisher
	CreatedAt    time.Time `json:"created_at"`
}

// Session is a login. Only the SHA-256 of its secret is stored, so a copy
// of the database does not hand out working secrets.
type Session struct {
	ID         int64
	UserID     int64
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Password length limits, in code points.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,64}$`)

// ValidateUsername checks the username rules: 3 to 64 of [A-Za-z0-9_.-].
func ValidateUsername(name string) error {
	if name == "" {
		return Errorf(EINVALID, "username: is required")
	}
	if !usernameRE.MatchString(name) {
		return Errorf(EINVALID, "username: must be 3 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-'")
	}
	return nil
}

// ValidatePassword checks the password length rules.
func ValidatePassword(pw string) error {
	return ValidateText("password", pw, MinPasswordLen, MaxPasswordLen)
}

// CanonicalUsername is the form usernames are compared in: "Alice" and
// "alice" are the same account.
func CanonicalUsername(name string) string {
	return strings.ToLower(name)
}
