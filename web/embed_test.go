package web_test

import (
	"io/fs"
	"testing"

	"github.com/notifyd/notifyd/web"
)

func TestFilesServeThePageNotTheSources(t *testing.T) {
	files := web.Files()
	for _, name := range []string{"index.html", "notifyd-client.js", "app.js", "links.js", "style.css", "favicon.svg"} {
		if _, err := fs.Stat(files, name); err != nil {
			t.Errorf("%s is not embedded: %v", name, err)
		}
	}
	// The npm package's files and the type check are for apps and CI, not
	// for the browser: *.js does not match them.
	for _, name := range []string{"embed.go", "embed_test.go", "client.test.mjs", "client.integration.test.mjs", "links.test.mjs",
		"types.test.mjs", "notifyd-client.d.ts", "package.json", "typecheck", "typecheck/usage.ts"} {
		if _, err := fs.Stat(files, name); err == nil {
			t.Errorf("%s is embedded and would be served", name)
		}
	}
}
