// Package docs holds the project's documentation, and embeds the one file
// of it the binary serves: openapi.yaml, the contract of the HTTP API
// (GET /api/openapi.yaml). The file stays here, next to the prose it
// goes with, and is its only copy: the server and the tests that hold
// the server to it both read it through this package.
package docs

import _ "embed"

// openAPI is a string, not a []byte, so no caller can change it.
//
//go:embed openapi.yaml
var openAPI string

// OpenAPI returns the OpenAPI 3.1 document of the HTTP API (YAML).
func OpenAPI() string { return openAPI }
