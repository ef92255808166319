package httpserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// staticFiles serves the embedded web inbox. The files are small and
// embedded in the binary, so they are read once, with their ETag.
type staticFiles struct {
	*responder
	files map[string]staticFile // by URL path
	csp   string
}

type staticFile struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

// newStaticFiles loads every servable file of fsys. Names that gin could
// not route (":" and "*" are wildcards) or that would shadow the API are
// skipped and logged rather than panicking at route registration.
func newStaticFiles(r *responder, fsys fs.FS, wsURL string) *staticFiles {
	sf := &staticFiles{responder: r, files: make(map[string]staticFile), csp: contentSecurityPolicy(wsURL)}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !routableFile(p) {
			r.logger.Warn("static file not served: unroutable name", "file", p)
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := staticFile{name: p, body: body, contentType: contentType(p, body),
			etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		sf.files["/"+p] = f
		if p == "index.html" {
			sf.files["/"] = f
		}
		return nil
	})
	if err != nil {
		r.logger.Error("static files: walk failed", "error", err)
	}
	return sf
}

// paths returns the URL paths to register, sorted.
func (sf *staticFiles) paths() []string {
	out := make([]string, 0, len(sf.files))
	for p := range sf.files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// serve writes the file registered at the matched route. index.html must
// be revalidated every time (it names the other files); the other assets
// are not fingerprinted, so they are cached briefly.
func (sf *staticFiles) serve(c *gin.Context) {
	f, ok := sf.files[c.FullPath()]
	if !ok {
		sf.renderError(c, errNoRoute())
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	if f.name == "index.html" {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if strings.HasPrefix(f.contentType, "text/html") {
		h.Set("Content-Security-Policy", sf.csp)
		h.Set("X-Frame-Options", "DENY")
	}
	// ServeContent answers HEAD, ranges and If-None-Match from the ETag.
	http.ServeContent(c.Writer, c.Request, f.name, time.Time{}, bytes.NewReader(f.body))
}

func routableFile(p string) bool {
	if p == "healthz" || p == "readyz" || p == "api" || strings.HasPrefix(p, "api/") {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/", r)) {
			return false
		}
	}
	return true
}

// contentType picks the type from the extension, from a fixed table for
// the types a web page needs (so the answer does not depend on the host's
// mime.types), then Go's table, then by sniffing.
func contentType(name string, body []byte) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(body)
}

// contentSecurityPolicy allows the page to load only its own files and to
// connect to its own origin and the websocket listener, which is another
// origin (another port at least).
func contentSecurityPolicy(wsURL string) string {
	connect := "'self'"
	if u, err := url.Parse(wsURL); err == nil && (u.Scheme == "ws" || u.Scheme == "wss") && plainHost(u.Host) {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; connect-src " + connect + "; img-src 'self' data:; object-src 'none'; " +
		"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
}

// plainHost reports whether host is a bare host[:port], safe to place in
// a header value.
func plainHost(host string) bool {
	if host == "" {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return false
		}
	}
	return true
}
