package wsserver

import (
	"strconv"

	"github.com/notifyd/notifyd/notify"
)

// codeLabel is the code label of notifyd_ws_closes_total: a client may
// close with any code from 3000 to 4999, so only the standard codes and
// ours are kept, "other" for the rest and "none" when no close frame came.
func codeLabel(code int) string {
	switch {
	case code <= 0:
		return "none"
	case code >= 1000 && code <= 1015:
	case code == notify.CloseBadMessage, code == notify.CloseUnauthorized, code == notify.CloseTimeout,
		code == notify.CloseQueueFull, code == notify.CloseTooMany:
	default:
		return "other"
	}
	return strconv.Itoa(code)
}
