package httpserver

import (
	"net/url"
	"strings"
)

// Names of the cookie holding the session secret. Over https it carries
// the "__Host-" prefix: the browser then keeps it only if it is Secure,
// for Path=/ and without Domain, set by this very host, so a sibling
// subdomain can neither plant nor shadow it. Over plain http a __Host-
// cookie would be dropped, so the plain name is used.
// wsserver.SessionCookie and wsserver.SecureSessionCookie are the same.
const (
	sessionCookie       = "notifyd_session"
	secureSessionCookie = "__Host-notifyd_session"
)

// cookieSettings are the name and Secure flag of the session cookie.
type cookieSettings struct {
	name   string
	secure bool
}

// newCookieSettings derives them from http.public_url: an https page gets
// the __Host- cookie, Secure. auth.cookie_secure (forceSecure) sets Secure
// for an http public_url served through a TLS proxy anyway.
func newCookieSettings(publicURL string, forceSecure bool) cookieSettings {
	if u, err := url.Parse(publicURL); err == nil && strings.EqualFold(u.Scheme, "https") {
		return cookieSettings{name: secureSessionCookie, secure: true}
	}
	return cookieSettings{name: sessionCookie, secure: forceSecure}
}
