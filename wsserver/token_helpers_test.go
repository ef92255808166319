package wsserver

import (
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/jwtauth/jwtauthtest"
)

// token signs a test token for sub, valid for ttl.
func token(tb testing.TB, sub string, ttl time.Duration) string {
	tb.Helper()
	return jwtauthtest.Token(tb, sub, ttl)
}

// tokenAuth is the auth message with a token; afterID < 0 leaves after_id
// out.
func tokenAuth(tok string, afterID int64) string {
	if afterID < 0 {
		return fmt.Sprintf(`{"type":"auth","token":%q}`, tok)
	}
	return fmt.Sprintf(`{"type":"auth","token":%q,"after_id":%d}`, tok, afterID)
}

// refreshMsg is the refresh message.
func refreshMsg(tok string) string { return fmt.Sprintf(`{"type":"refresh","token":%q}`, tok) }
