package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// DefaultPath is the file Load reads when no -config flag is given.
const DefaultPath = "config.toml"

// KeyError is one invalid configuration value. Its text names where the value
// came from (a file and line, or an environment variable) and the key, and
// never contains a secret value (API keys, database URLs).
type KeyError struct {
	Source string // "config.toml:12", "NOTIFYD_WS_SEND_QUEUE", or "" after merging
	Key    string // dotted key: "ws.send_queue"
	Reason string // what is wrong, safe to print
}

// Error returns "[source: ]key: reason".
func (e *KeyError) Error() string {
	if e.Source == "" {
		return e.Key + ": " + e.Reason
	}
	return e.Source + ": " + e.Key + ": " + e.Reason
}

// Load builds the configuration: Default(), then the TOML file at path, then
// the NOTIFYD_<SECTION>_<KEY> environment variables found in environ
// ("KEY=value" entries, as os.Environ returns them), then derived defaults
// (Normalized) and Validate. A set NOTIFYD_* variable that names no key is
// an error, like an unknown key in the file.
//
// explicit says whether path was given by the user (-config): an explicit
// file must exist, while the default ./config.toml is skipped when absent so
// that `go run ./cmd/notifyd` works anywhere. An empty environment variable
// counts as unset.
//
// Every invalid value is reported, not only the first: the error is an
// errors.Join of *KeyError, one per line when printed. On
// error the returned Config is the zero value, so it cannot be used by
// accident.
func Load(path string, explicit bool, environ []string) (Config, error) {
	c := Default()
	if path == "" {
		if explicit {
			return Config{}, errors.New("config: -config: empty path")
		}
		path = DefaultPath
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := decodeTOML(&c, path, b); err != nil {
			return Config{}, err
		}
	case !explicit && errors.Is(err, fs.ErrNotExist):
		// No file: defaults and environment only.
	default:
		return Config{}, fmt.Errorf("config: read %s: %w", path, err)
	}
	if errs := unknownVariables(&c, environ); len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if err := applyEnv(&c, getenvFrom(environ)); err != nil {
		return Config{}, err
	}
	c = c.Normalized()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeTOML decodes doc over c, keeping the values of keys the file does not
// set. Unknown keys are errors: a typo such as "adress" must not silently
// leave the default in force.
func decodeTOML(c *Config, name string, doc []byte) error {
	dec := toml.NewDecoder(bytes.NewReader(doc)).DisallowUnknownFields()
	err := dec.Decode(c)
	if err == nil {
		return checkDurations(c, name, doc)
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			key := strings.Join(e.Key(), ".")
			reason := "unknown key"
			if r, ok := removedKeys[key]; ok {
				reason = r
			}
			errs = append(errs, &KeyError{Source: name + ":" + strconv.Itoa(line), Key: key, Reason: reason})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		reason := strings.TrimPrefix(de.Error(), "toml: ")
		if f, ok := fieldByKey(c, key); ok {
			reason = typeErrorReason(f, reason)
		}
		if key == "" {
			key = "syntax"
		}
		return &KeyError{Source: name + ":" + strconv.Itoa(line), Key: key, Reason: reason}
	}
	return fmt.Errorf("config: decode %s: %w", name, err)
}

// typeErrorReason says a decoder error about field f in the config's own
// words: "must be a string, got an integer" rather than the decoder's
// "cannot decode TOML integer into struct field config.HTTP.Addr of type
// string". Other messages (a bad duration) are kept, except for a secret,
// whose value the decoder's message may quote.
func typeErrorReason(f field, msg string) string {
	want := describe(f.value.Type())
	if f.value.Kind() == reflect.Slice {
		want = "a list of strings"
	}
	var got string
	if rest, ok := strings.CutPrefix(msg, "cannot decode TOML "); ok {
		got, _, ok = strings.Cut(rest, " into ")
		if ok && got != "" {
			return "must be " + want + ", got " + article(got)
		}
	}
	if f.secret {
		return "invalid value; expected " + want
	}
	return msg
}

// article prefixes a TOML type name with "a" or "an": "an integer".
func article(typ string) string {
	if strings.ContainsRune("aeiou", rune(typ[0])) {
		return "an " + typ
	}
	return "a " + typ
}

// checkDurations refuses a bare number where a duration string is expected:
// the decoder would store `shutdown_timeout = 10` as 10 nanoseconds, a value
// that passes validation and breaks the service in puzzling ways.
func checkDurations(c *Config, name string, doc []byte) error {
	var raw map[string]any
	if err := toml.Unmarshal(doc, &raw); err != nil {
		return fmt.Errorf("config: decode %s: %w", name, err)
	}
	var errs []error
	for _, f := range fields(c) {
		if !isDuration(f.value.Type()) {
			continue
		}
		v, ok := lookupRaw(raw, f.key)
		if !ok {
			continue
		}
		if _, isString := v.(string); !isString {
			errs = append(errs, &KeyError{Source: name, Key: f.key, Reason: fmt.Sprintf("must be a duration string with a unit such as \"10s\", got %v", v)})
		}
	}
	return errors.Join(errs...)
}

// lookupRaw finds the dotted key in a decoded TOML document.
func lookupRaw(doc map[string]any, key string) (any, bool) {
	var v any = doc
	for part := range strings.SplitSeq(key, ".") {
		table, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = table[part]; !ok {
			return nil, false
		}
	}
	return v, true
}
