package httpserver

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// List paging limits for GET /api/notifications.
const (
	defaultListLimit = 50
	maxListLimit     = 200
	// meListLimit is how many unread notifications GET /api/me returns.
	meListLimit = 50
)

// pathID parses the :id path parameter. Anything but a positive 64-bit
// integer is reported as notFound: a malformed id names no resource, and
// answering 404 for every bad id reveals nothing.
func pathID(c *gin.Context, notFound string) (int64, error) {
	id, ok := positiveInt(c.Param("id"))
	if !ok {
		return 0, notify.Errorf(notify.ENOTFOUND, "%s", notFound)
	}
	return id, nil
}

// positiveInt parses a decimal integer in 1..MaxInt64 written plainly:
// digits only, no sign, no leading zero.
func positiveInt(s string) (int64, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// listQuery parses the query string of GET /api/notifications:
// limit (1..200, default 50), before (a positive id), after (an id, 0
// for "from the start", as after_id on the socket; not with before) and
// unread (true|false).
func listQuery(c *gin.Context) (notify.ListQuery, error) {
	q := notify.ListQuery{Limit: defaultListLimit}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return q, notify.Errorf(notify.EINVALID, "limit: must be an integer between 1 and %d", maxListLimit)
		}
		q.Limit = n
	}
	if v, ok := c.GetQuery("before"); ok {
		n, valid := positiveInt(v)
		if !valid {
			return q, notify.Errorf(notify.EINVALID, "before: must be a positive integer id")
		}
		q.Before = n
	}
	if v, ok := c.GetQuery("after"); ok {
		n, valid := positiveInt(v)
		if !valid && v != "0" {
			return q, notify.Errorf(notify.EINVALID, "after: must be 0 or a positive integer id")
		}
		q.After, q.Forward = n, true
	}
	if q.Before != 0 && q.Forward {
		return q, notify.Errorf(notify.EINVALID, "before: cannot be combined with after")
	}
	if v, ok := c.GetQuery("unread"); ok {
		switch v {
		case "true":
			q.UnreadOnly = true
		case "false":
			q.UnreadOnly = false
		default:
			return q, notify.Errorf(notify.EINVALID, "unread: must be true or false")
		}
	}
	return q, nil
}
