// Package web holds the browser inbox and the reusable JS client
// (notifyd-client.js), embedded in the binary and served by the HTTP
// listener at /. No build step: the files are served as written.
package web

import (
	"embed"
	"io/fs"
)

// The page, its modules, styles and icon. The node tests (*.test.mjs), the
// npm package's package.json and notifyd-client.d.ts, typecheck/ and
// this Go file are not served.
//
//go:embed index.html *.js *.css *.svg
var files embed.FS

// Files returns the files to serve; "index.html" is the page.
func Files() fs.FS { return files }
