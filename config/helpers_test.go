package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/config"
)

// env returns an environment ("KEY=value" entries, as os.Environ returns
// them) holding m.
func env(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// writeFile writes a config file in a temporary directory and returns its path.
func writeFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// keyErrors returns every *KeyError in err, which may be an errors.Join tree.
func keyErrors(err error) []*config.KeyError {
	var out []*config.KeyError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ke, ok := e.(*config.KeyError); ok {
			out = append(out, ke)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}

// errorKeys returns the keys named by the KeyErrors in err, in order.
func errorKeys(err error) []string {
	var keys []string
	for _, ke := range keyErrors(err) {
		keys = append(keys, ke.Key)
	}
	return keys
}

// wantKeys fails unless err names exactly the keys want.
func wantKeys(tb testing.TB, err error, want ...string) {
	tb.Helper()
	got := errorKeys(err)
	if !slices.Equal(got, want) {
		tb.Fatalf("error keys = %q, want %q; error:\n%v", got, want, err)
	}
}

// defaults is Default() as Load returns it with nothing set.
func defaults() config.Config { return config.Default().Normalized() }

// Publisher keys long enough for auth.api_keys (32 characters at least).
const (
	testKey1 = "0123456789abcdef0123456789abcdef"
	testKey2 = "fedcba9876543210fedcba9876543210"
)
