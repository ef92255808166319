package httpserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

func errNoSession() error { return notify.Errorf(notify.EUNAUTHORIZED, "missing or invalid session") }
func errBadAPIKey() error { return notify.Errorf(notify.EUNAUTHORIZED, "missing or invalid API key") }

// errNoAPIKeys tells an operator trying the publisher API that no key can
// work, rather than that theirs is wrong.
func errNoAPIKeys() error {
	return notify.Errorf(notify.EUNAUTHORIZED, "publisher API disabled: no auth.api_keys configured")
}

func errForbiddenOrigin() error {
	return notify.Errorf(notify.EFORBIDDEN, "origin not allowed")
}

// requireUser authenticates the caller by session secret, from the
// Authorization header ("Bearer <secret>") or else the session cookie, or
// by a token of the app's backend ("Bearer <jwt>", told apart by its
// dots), and stores the user, and the session if any, in the context. A
// token is taken from the header only: the cookie holds sessions.
//
// A cookie is sent by the browser on its own, so a cookie-authenticated
// state-changing request must come from an allowed origin (CSRF). A
// request that names its secret in the Authorization header cannot be
// forged cross-site, and one without an Origin header does not come from
// a browser page.
func (s *Server) requireUser(c *gin.Context) {
	secret, viaCookie, ok := sessionSecret(c.Request, s.cookie.name)
	if !ok {
		s.renderError(c, errNoSession())
		return
	}
	if viaCookie && !safeMethod(c.Request.Method) {
		if crossSiteFetch(c.Request) {
			s.renderError(c, errForbiddenOrigin())
			return
		}
		if !s.originAllowed(c.Request) {
			s.refuseOrigin(c)
			return
		}
	}
	if !viaCookie && notify.IsToken(secret) {
		u, _, err := s.deps.Accounts.AuthenticateToken(c.Request.Context(), secret)
		if err != nil {
			s.renderError(c, err)
			return
		}
		c.Set(keyUser, u)
		c.Next()
		return
	}
	u, sess, err := s.deps.Accounts.Authenticate(c.Request.Context(), secret)
	if err != nil {
		s.renderError(c, err)
		return
	}
	c.Set(keyUser, u)
	c.Set(keySession, sess)
	c.Next()
}

// sessionSecret returns the secret the request authenticates with. A
// present Authorization header wins over the cookie, and must be a Bearer
// token.
func sessionSecret(r *http.Request, cookieName string) (secret string, viaCookie, ok bool) {
	if r.Header.Get("Authorization") != "" {
		token, ok := bearerToken(r)
		return token, false, ok
	}
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return "", false, false
	}
	return ck.Value, true, true
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// originAllowed reports whether the request has no Origin header or one of
// the allowed origins. "null" (sandboxed frames, file: pages, some
// redirects) is never allowed.
func (s *Server) originAllowed(r *http.Request) bool {
	origins, present := r.Header["Origin"]
	if !present {
		return true
	}
	if len(origins) != 1 {
		return false
	}
	o := strings.ToLower(origins[0])
	return o != "null" && slices.Contains(s.cfg.AllowedOrigins, o)
}

// crossSiteFetch reports a request that a browser says comes from another
// site's page although it sent no Origin header (Sec-Fetch-Site:
// cross-site): refused wherever a cookie would act for the visitor. With an
// Origin header, originAllowed decides.
func crossSiteFetch(r *http.Request) bool {
	return r.Header.Get("Origin") == "" && strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site")
}

// requireSameSite guards log-in and sign-up, which need no session and so
// pass no requireUser: a request a browser sends from another site's page
// (an Origin outside the allowed origins, or no Origin but Sec-Fetch-Site
// cross-site) is refused, so a foreign page cannot log the visitor into
// the attacker's account (login CSRF).
func (s *Server) requireSameSite(c *gin.Context) {
	r := c.Request
	if crossSiteFetch(r) {
		s.renderError(c, errForbiddenOrigin())
		return
	}
	if !s.originAllowed(r) {
		// Logged, and explained: usually the page was opened at another
		// address than http.public_url.
		s.refuseOrigin(c)
		return
	}
	c.Next()
}

// userOf returns the user requireUser authenticated.
func userOf(c *gin.Context) (notify.User, bool) {
	return valueOf[notify.User](c, keyUser)
}

// sessionOf returns the session requireUser authenticated; none (false)
// for a caller authenticated by a token.
func sessionOf(c *gin.Context) (notify.Session, bool) {
	return valueOf[notify.Session](c, keySession)
}

// valueOf returns the value of type T a middleware set under key: the
// zero T and false when there is none.
func valueOf[T any](c *gin.Context, key string) (T, bool) {
	v, _ := c.Get(key)
	t, ok := v.(T)
	return t, ok
}

// apiKeys holds the SHA-256 digests of the publisher keys. Comparing
// digests of equal length in constant time tells neither a key's content
// nor its length by timing.
type apiKeys [][sha256.Size]byte

func newAPIKeys(keys []string) apiKeys {
	out := make(apiKeys, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			out = append(out, keyDigest(k))
		}
	}
	return out
}

// keyDigest is the SHA-256 of a publisher key, hashed from a copy on the
// stack: []byte(key) allocated on every publisher request, keys being
// longer than the 32 bytes the compiler converts without allocating.
func keyDigest(key string) [sha256.Size]byte {
	var buf [128]byte // a longer key is copied to the heap by append
	return sha256.Sum256(append(buf[:0], key...))
}

// match compares the digest of a presented key with every configured key,
// without stopping at the first match.
func (k apiKeys) match(d [sha256.Size]byte) bool {
	found := 0
	for i := range k {
		found |= subtle.ConstantTimeCompare(d[:], k[i][:])
	}
	return found == 1
}

// requirePublisher admits requests bearing one of auth.api_keys. With no
// key configured every call is refused, with a message saying so.
func (s *Server) requirePublisher(c *gin.Context) {
	if len(s.apiKeys) == 0 {
		s.renderError(c, errNoAPIKeys())
		return
	}
	key, ok := bearerToken(c.Request)
	if !ok || !s.apiKeys.match(keyDigest(key)) {
		s.renderError(c, errBadAPIKey())
		return
	}
	c.Next()
}

// publisherScope returns the scope of the idempotency keys of a request
// requirePublisher admitted: the SHA-256 of its API key. It is worked out
// again from the header when a request has an Idempotency-Key, rather than
// kept in the context for every request.
func publisherScope(c *gin.Context) []byte {
	key, _ := bearerToken(c.Request)
	scope := keyDigest(key)
	return scope[:]
}
