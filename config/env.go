package config

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable: NOTIFYD_<SECTION>_<KEY>, for
// example NOTIFYD_HTTP_ADDR or NOTIFYD_WS_SEND_QUEUE.
const EnvPrefix = "NOTIFYD_"

// isSecret reports whether the value of key must never be printed: not in
// errors, not in logs (see Redacted).
func isSecret(key string) bool {
	switch key {
	case "auth.api_keys", "auth.jwt.hmac_secrets", "database.url", "cluster.secret", "cluster.listen_url",
		"cluster.nats.url", "cluster.nats.password", "cluster.nats.token":
		return true
	}
	return false
}

// field is one configuration key, found by walking the toml tags so that
// every key gets its environment variable without a hand-written list.
type field struct {
	key    string        // "ws.send_queue"
	env    string        // "NOTIFYD_WS_SEND_QUEUE"
	secret bool          // value must never be printed
	value  reflect.Value // settable when walked from a *Config
}

// fields lists every key of c in declaration order. A section may hold a
// table of its own ([auth.jwt]): its keys are "auth.jwt.issuer", with the
// variable NOTIFYD_AUTH_JWT_ISSUER.
func fields(c *Config) []field {
	return appendFields(nil, "", reflect.ValueOf(c).Elem())
}

// appendFields appends the keys of the struct v, whose own key is prefix
// ("" for the root), descending into nested tables.
func appendFields(out []field, prefix string, v reflect.Value) []field {
	for i := range v.NumField() {
		key := tomlName(v.Type().Field(i))
		if prefix != "" {
			key = prefix + "." + key
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			out = appendFields(out, key, fv)
			continue
		}
		out = append(out, field{
			key:    key,
			env:    EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
			secret: isSecret(key),
			value:  fv,
		})
	}
	return out
}

// fieldByKey finds the field with the dotted key.
func fieldByKey(c *Config, key string) (field, bool) {
	for _, f := range fields(c) {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// tomlName is the name of a struct field in the TOML file.
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" {
		panic("config: field " + f.Name + " has no toml tag")
	}
	return name
}

// applyEnv overrides every key whose environment variable is set (non-empty).
func applyEnv(c *Config, getenv func(string) string) error {
	var errs []error
	for _, f := range fields(c) {
		s := getenv(f.env)
		if s == "" {
			continue
		}
		if err := setFromString(f.value, s); err != nil {
			reason := "invalid value; expected " + describe(f.value.Type())
			if !f.secret {
				reason += ", got " + strconv.Quote(s)
			}
			errs = append(errs, &KeyError{Source: f.env, Key: f.key, Reason: reason})
		}
	}
	return errors.Join(errs...)
}

// setFromString parses s into v according to v's type. Lists are
// comma-separated; blanks around items and empty items are dropped, so
// "a, b," is ["a", "b"].
func setFromString(v reflect.Value, s string) error {
	if isDuration(v.Type()) {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return errors.New("unsupported list type " + v.Type().String())
		}
		v.Set(reflect.ValueOf(splitList(s)))
	default:
		return errors.New("unsupported type " + v.Type().String())
	}
	return nil
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// describe names the expected format of a value of type t in error messages.
func describe(t reflect.Type) string {
	if isDuration(t) {
		return `a Go duration such as "10s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "a list of strings (comma-separated in the environment)"
	default:
		return t.String()
	}
}

// isDuration reports whether t is Duration, which is an int64 underneath but
// is written as a duration string.
func isDuration(t reflect.Type) bool { return t == reflect.TypeFor[Duration]() }
