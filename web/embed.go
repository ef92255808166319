// Package web holds the browser inbox and the reusable JS client, embedded
// in the binary and served by the HTTP listener.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Files returns the static files, rooted so that "index.html" is the page.
func Files() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "static" is valid.
		panic(err)
	}
	return sub
}
