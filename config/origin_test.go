package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/config"
)

func TestOrigin(t *testing.T) {
	tests := []struct {
		in, want string // want "" for an error
	}{
		{"http://localhost:8000", "http://localhost:8000"},
		{"HTTP://LocalHost:8000", "http://localhost:8000"},
		{"https://example.com", "https://example.com"},
		{"https://example.com/", "https://example.com"},
		{"https://example.com:443", "https://example.com"},
		{"http://example.com:80", "http://example.com"},
		{"http://example.com:443", "http://example.com:443"},
		{"https://example.com:80", "https://example.com:80"},
		{"http://[::1]:8000", "http://[::1]:8000"},
		{"http://[::1]:80", "http://[::1]"},
		{"http://127.0.0.1:8000", "http://127.0.0.1:8000"},
		{"", ""},
		{"null", ""},
		{"NULL", ""},
		{"localhost:8000", ""},
		{"example.com", ""},
		{"ws://localhost:8001", ""},
		{"file:///etc/passwd", ""},
		{"https://example.com/app", ""},
		{"https://example.com?x=1", ""},
		{"https://example.com#top", ""},
		{"https://user@example.com", ""},
		{"https://", ""},
		{"https://example.com:port", ""},
		{"*", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.Origin(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Origin(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Origin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestAllowedOriginsDerived(t *testing.T) {
	tests := []struct {
		name      string
		publicURL string
		allowed   []string
		want      []string
	}{
		{"default", "http://localhost:8000", nil, []string{"http://localhost:8000"}},
		{"public url with path and default port", "HTTPS://Notify.Example.com:443/app/", nil, []string{"https://notify.example.com"}},
		{"explicit list wins", "http://localhost:8000", []string{"https://A.example", "https://a.example:443", "http://b.example:8080"}, []string{"https://a.example", "http://b.example:8080"}},
		{"empty list is derived", "http://localhost:8000", []string{}, []string{"http://localhost:8000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"NOTIFYD_HTTP_PUBLIC_URL": tt.publicURL}
			c := config.Default()
			c.HTTP.PublicURL = tt.publicURL
			c.WS.AllowedOrigins = tt.allowed
			if got := c.Normalized().WS.AllowedOrigins; !slices.Equal(got, tt.want) {
				t.Errorf("Normalized: allowed_origins = %q, want %q", got, tt.want)
			}
			if len(tt.allowed) > 0 {
				vars["NOTIFYD_WS_ALLOWED_ORIGINS"] = strings.Join(tt.allowed, ",")
			}
			got, err := config.Load(writeFile(t, ""), true, env(vars))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.WS.AllowedOrigins, tt.want) {
				t.Errorf("Load: allowed_origins = %q, want %q", got.WS.AllowedOrigins, tt.want)
			}
		})
	}
}

func TestNormalizedDoesNotModifyInput(t *testing.T) {
	c := config.Default()
	c.WS.AllowedOrigins = []string{"HTTP://X.EXAMPLE"}
	_ = c.Normalized()
	if c.WS.AllowedOrigins[0] != "HTTP://X.EXAMPLE" {
		t.Fatalf("Normalized changed its receiver's list: %q", c.WS.AllowedOrigins)
	}
}
