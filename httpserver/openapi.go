package httpserver

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIType is the media type of the served document (RFC 9512).
const openAPIType = "application/yaml"

// openAPIDoc serves the OpenAPI document of this API (docs/openapi.yaml,
// embedded in the binary), so a client generator or a curious operator
// can fetch the contract of the very build that answers.
type openAPIDoc struct {
	spec []byte
}

// serve handles GET /api/openapi.yaml.
func (h openAPIDoc) serve(c *gin.Context) {
	c.Data(http.StatusOK, openAPIType, h.spec)
}
