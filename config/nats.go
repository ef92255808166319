package config

import (
	"net/url"
	"strings"
)

// DefaultNATSURL is cluster.nats.url when nothing is set: a nats-server on
// the same machine.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// NATS configures the connection of the NATS broker ([cluster.nats]),
// used when cluster.broker is "nats". At most one way to authenticate may
// be set: creds_file, nkey_seed_file, user and password, or token (none:
// no authentication, or the one in the URL). Every message is sealed with
// a key derived from cluster.secret whatever is set here; these keys
// protect the connection itself.
type NATS struct {
	// URL is one server URL or several separated by commas
	// ("nats://a:4222,nats://b:4222"); tls:// forces TLS.
	URL           string `toml:"url"`            // "nats://127.0.0.1:4222"
	CredsFile     string `toml:"creds_file"`     // "": a .creds file (user JWT and nkey seed)
	NkeySeedFile  string `toml:"nkey_seed_file"` // "": a file holding an nkey user seed
	User          string `toml:"user"`           // "": with password
	Password      string `toml:"password"`       // "" (secret)
	Token         string `toml:"token"`          // "" (secret)
	TLSCAFile     string `toml:"tls_ca_file"`    // "": the system's roots; set, TLS is required and the server's certificate must be signed by it
	TLSCertFile   string `toml:"tls_cert_file"`  // "": with tls_key_file, a client certificate
	TLSKeyFile    string `toml:"tls_key_file"`   // ""
	SubjectPrefix string `toml:"subject_prefix"` // "notifyd": subjects are <prefix>.u.<user_id>
	// ReconnectWait is the pause between reconnect attempts to one server
	// (nats.go adds jitter).
	ReconnectWait Duration `toml:"reconnect_wait"` // "500ms"
	// MaxMessageBytes bounds a sealed message, sent or received: a
	// nats-server's max_payload (1 MiB unless changed there). A change
	// whose message is larger is not sent; the receivers read it from
	// the database.
	MaxMessageBytes int `toml:"max_message_bytes"` // 1048576
	// Queue is how many received messages may wait for the broker's
	// goroutine; when it is full, messages are dropped and every user
	// with sockets here is caught up from the database.
	Queue int `toml:"queue"` // 65536
}

// nats checks [cluster.nats]. The files are read when the broker
// connects, and its errors name the key too.
func (v *validator) nats(c NATS) {
	const p = "cluster.nats."
	if strings.TrimSpace(c.URL) == "" {
		v.add(p+"url", "must not be empty")
	}
	for i, s := range strings.Split(c.URL, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || u.Hostname() == "" {
			// The URL may hold a password or token: never print it.
			v.add(index(p+"url", i), "must be a URL such as nats://127.0.0.1:4222 (value not shown)")
			continue
		}
		switch strings.ToLower(u.Scheme) {
		case "nats", "tls", "ws", "wss":
		default:
			v.add(index(p+"url", i), "scheme must be nats, tls, ws or wss, got %q", u.Scheme)
		}
	}
	methods := 0
	for _, set := range []bool{c.CredsFile != "", c.NkeySeedFile != "", c.User != "" || c.Password != "", c.Token != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		v.add(p+"creds_file", "set at most one of creds_file, nkey_seed_file, user and password, token")
	}
	if (c.User == "") != (c.Password == "") {
		v.add(p+"password", "user and password must be set together")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		v.add(p+"tls_key_file", "tls_cert_file and tls_key_file must be set together")
	}
	v.positive(p+"reconnect_wait", c.ReconnectWait)
	v.between(p+"max_message_bytes", int64(c.MaxMessageBytes), 1024, 64<<20)
	v.between(p+"queue", int64(c.Queue), 1, 1<<24)
	if !validSubjectToken(c.SubjectPrefix) {
		v.add(p+"subject_prefix", "must be letters, digits, '-' and '_' separated by dots, got %q", c.SubjectPrefix)
	}
}

// validSubjectToken reports whether s can start a NATS subject: dot
// separated non-empty tokens without wildcards or spaces.
func validSubjectToken(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" {
			return false
		}
		for _, r := range tok {
			ok := r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}

// redactNATSURLs masks the credentials of each URL of a cluster.nats.url
// list: a password, or a user part without one, which NATS reads as a
// token. A URL that does not parse is masked whole.
func redactNATSURLs(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			parts[i] = redacted
		case u.User == nil:
			parts[i] = u.String()
		default:
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), redacted)
			} else {
				u.User = url.User(redacted)
			}
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// redactNATS masks the secrets of [cluster.nats].
func redactNATS(c NATS) NATS {
	c.URL = redactNATSURLs(c.URL)
	if c.Password != "" {
		c.Password = redacted
	}
	if c.Token != "" {
		c.Token = redacted
	}
	return c
}
