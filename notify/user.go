package notify

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// User is an account that receives notifications. It is one of two kinds,
// never both: an external user, whom the app's backend names by its own id
// (ExternalID; created by the publisher API or a token), or a self-signup
// account of the demo page (Username and a password). The two namespaces
// are separate: no publisher call resolves to a self-signup account.
type User struct {
	ID           int64
	Username     string // "" for an external user
	ExternalID   string // "" for a self-signup account
	Name         string // display name given by the publisher; "" for none
	PasswordHash string // "" for an external user
	CreatedAt    time.Time
}

// userJSON is the JSON form of a User: absent values are null, so every
// form has the same keys.
type userJSON struct {
	ID         int64     `json:"id"`
	Username   *string   `json:"username"`
	ExternalID *string   `json:"external_id"`
	Name       *string   `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
}

// MarshalJSON writes {"id","username","external_id","name","created_at"},
// with null for what u does not have. The password hash is never written.
func (u User) MarshalJSON() ([]byte, error) {
	return json.Marshal(userJSON{
		ID: u.ID, Username: nullable(u.Username), ExternalID: nullable(u.ExternalID),
		Name: nullable(u.Name), CreatedAt: u.CreatedAt,
	})
}

// appendJSON appends what MarshalJSON writes, for a CreatedAt that
// jsonTime accepts (HelloFrame).
func (u User) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	// The three strings that are null when empty (see nullable).
	for _, f := range [...]struct{ key, value string }{
		{`,"username":`, u.Username}, {`,"external_id":`, u.ExternalID}, {`,"name":`, u.Name},
	} {
		b = append(b, f.key...)
		if f.value == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, f.value)
		}
	}
	b = append(b, `,"created_at":"`...)
	b = u.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

// UnmarshalJSON reads the form MarshalJSON writes (clients and tests).
func (u *User) UnmarshalJSON(b []byte) error {
	var j userJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*u = User{ID: j.ID, Username: deref(j.Username), ExternalID: deref(j.ExternalID), Name: deref(j.Name), CreatedAt: j.CreatedAt}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// MaxExternalIDLen bounds an external id, in bytes (its characters are ASCII).
const MaxExternalIDLen = 128

// ValidateExternalID checks the app's id of a user: 1 to 128 characters of
// [A-Za-z0-9_.:@|=+-], enough for numeric ids, UUIDs, e-mail addresses and
// identity-provider subjects such as "auth0|5f7c...". It is compared
// case-sensitively. field names the input in the error ("external_id",
// "user_ids", "sub").
func ValidateExternalID(field, id string) error {
	if id == "" {
		return Errorf(EINVALID, "%s: is required", field)
	}
	if len(id) > MaxExternalIDLen || !externalIDChars(id) {
		return Errorf(EINVALID, "%s: must be 1 to %d characters of A-Z, a-z, 0-9 and _ . : @ | = + -", field, MaxExternalIDLen)
	}
	return nil
}

func externalIDChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.:@|=+-", c) >= 0) {
			return false
		}
	}
	return true
}

// MaxNameLen bounds a user's display name, in code points.
const MaxNameLen = 200

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
