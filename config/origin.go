package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// Origin normalises a web origin, as written in ws.allowed_origins or
// http.cors_origins or as sent by a browser in an Origin header, to
// lower-case "scheme://host[:port]" so that origins compare with ==.
// The scheme must be http or https. A default port (80 for http, 443 for
// https) is dropped, because browsers omit it from the Origin header:
// "https://Example.com:443" and "https://example.com" are the same origin.
// A trailing "/" is tolerated; any other path, a query, a fragment, user info
// and the opaque origin "null" are errors.
func Origin(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("empty origin")
	}
	if strings.EqualFold(raw, "null") {
		return "", errors.New(`"null" is the origin of sandboxed and file pages and cannot be allowed`)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port])", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin: it must be scheme://host[:port], without a path", raw)
	}
	return originOf(u, raw)
}

// publicOrigin is the origin of an absolute http(s) URL that may have a path,
// such as http.public_url: the page the browser loads, so the origin its
// requests carry.
func publicOrigin(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", rawURL)
	}
	return originOf(u, rawURL)
}

// originOf returns the normalised origin of u; raw is u as written, for
// errors.
func originOf(u *url.URL, raw string) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q: scheme must be http or https", raw)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%q: must be an absolute URL with a host", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q: must not contain user info", raw)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port == "" {
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // IPv6 literal
		}
		return scheme + "://" + host, nil
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// Normalized returns c with derived defaults filled in, as Load does before
// Validate; code that builds a Config by hand (tests) calls it too:
//   - every origin in ws.allowed_origins and http.cors_origins is normalised
//     by Origin and duplicates are dropped (invalid entries are left as
//     written for Validate to report);
//   - an empty ws.allowed_origins becomes the origin of http.public_url, the
//     page that opens the sockets;
//   - empty lists become nil, so that a file saying `api_keys = []` loads
//     equal to Default();
//   - metrics.addr "off" becomes "" (no metrics listener): an empty
//     environment variable counts as unset, so it cannot say "".
//
// c is not modified: lists are copied.
func (c Config) Normalized() Config {
	c.WS.AllowedOrigins = normalizeOrigins(c.WS.AllowedOrigins)
	c.HTTP.CORSOrigins = normalizeOrigins(c.HTTP.CORSOrigins)
	if len(c.WS.AllowedOrigins) == 0 {
		if o, err := publicOrigin(c.HTTP.PublicURL); err == nil {
			c.WS.AllowedOrigins = []string{o}
		}
	}
	if strings.EqualFold(c.Metrics.Addr, "off") {
		c.Metrics.Addr = ""
	}
	for _, f := range fields(&c) {
		if f.value.Kind() == reflect.Slice && f.value.Len() == 0 {
			f.value.SetZero()
		}
	}
	return c
}

// normalizeOrigins returns a new list of the normalised, distinct origins.
func normalizeOrigins(in []string) []string {
	var out []string
	for _, o := range in {
		if n, err := Origin(o); err == nil {
			o = n
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}
