package config_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/notifyd/notifyd/config"
)

// composeFile is the subset of docker-compose.yml the test checks.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

// composeService is one service of docker-compose.yml.
type composeService struct {
	Image       string            `yaml:"image"`
	Profiles    []string          `yaml:"profiles"`
	Build       string            `yaml:"build"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Restart     string            `yaml:"restart"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

// readCompose reads and decodes the repository's docker-compose.yml.
func readCompose(tb testing.TB) composeFile {
	tb.Helper()
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		tb.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		tb.Fatalf("docker-compose.yml: %v", err)
	}
	return f
}

// service returns the service name, failing when there is none.
func (f composeFile) service(tb testing.TB, name string) composeService {
	tb.Helper()
	svc, ok := f.Services[name]
	if !ok {
		tb.Fatalf("no service %s", name)
	}
	return svc
}

// interpolate replaces ${VAR:-default} by set[VAR], or its default when
// VAR is not set, and ${VAR:?message} by set[VAR], as compose does with the
// variables the test provides as the README's .env would.
func interpolate(s string, set map[string]string) string {
	s = regexp.MustCompile(`\$\{([A-Z_]+):-([^}]*)\}`).ReplaceAllStringFunc(s, func(m string) string {
		sub := regexp.MustCompile(`\$\{([A-Z_]+):-([^}]*)\}`).FindStringSubmatch(m)
		if v, ok := set[sub[1]]; ok {
			return v
		}
		return sub[2]
	})
	return regexp.MustCompile(`\$\{([A-Z_]+):\?[^}]*\}`).ReplaceAllStringFunc(s, func(m string) string {
		return set[regexp.MustCompile(`[A-Z_]+`).FindString(m)]
	})
}

func TestDockerCompose(t *testing.T) {
	f := readCompose(t)

	db := f.service(t, "db")
	if db.Image != "postgres:16" {
		t.Errorf("db image = %q, want postgres:16", db.Image)
	}
	if !strings.Contains(strings.Join(db.Healthcheck.Test, " "), "pg_isready") {
		t.Errorf("db healthcheck = %q, want pg_isready", db.Healthcheck.Test)
	}
	if db.Environment["POSTGRES_DB"] != "notifyd" || db.Environment["POSTGRES_PASSWORD"] == "" {
		t.Errorf("db environment = %v, want POSTGRES_DB notifyd and a password", db.Environment)
	}
	if len(db.Volumes) != 1 {
		t.Fatalf("db volumes = %q, want one named volume", db.Volumes)
	}
	if name, _, _ := strings.Cut(db.Volumes[0], ":"); f.Volumes == nil || !hasKey(f.Volumes, name) {
		t.Errorf("db volume %q is not a declared named volume", name)
	}

	app := f.service(t, "notifyd")
	if app.Build != "." {
		t.Errorf("notifyd build = %q, want .", app.Build)
	}
	if got := strings.Join(app.Healthcheck.Test, " "); got != "CMD /notifyd healthcheck" {
		t.Errorf("notifyd healthcheck = %q, want the binary's healthcheck command", got)
	}
	// Published on the host's loopback only: the metrics, and an API
	// without TLS, must not face the network.
	for _, p := range []string{"127.0.0.1:8000:8000", "127.0.0.1:8001:8001", "127.0.0.1:9464:9464"} {
		if !slices.Contains(app.Ports, p) {
			t.Errorf("notifyd ports = %q, want %s", app.Ports, p)
		}
	}
	for _, p := range app.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("notifyd port %q is published on every interface", p)
		}
	}
	if c := app.DependsOn["db"].Condition; c != "service_healthy" {
		t.Errorf("notifyd depends_on db condition = %q, want service_healthy", c)
	}
	if app.Restart != "unless-stopped" {
		t.Errorf("notifyd restart = %q, want unless-stopped", app.Restart)
	}

	// The service's environment, with compose's defaults, must be a valid
	// notifyd configuration that uses the db service.
	// The publisher key has no default: compose refuses to start until
	// .env sets it (${VAR:?...}).
	if k := app.Environment["NOTIFYD_AUTH_API_KEYS"]; !regexp.MustCompile(`^\$\{NOTIFYD_AUTH_API_KEYS:\?[^}]+\}$`).MatchString(k) {
		t.Errorf("NOTIFYD_AUTH_API_KEYS = %q, want ${NOTIFYD_AUTH_API_KEYS:?message}: required from .env, no placeholder", k)
	}
	dotEnv := map[string]string{"NOTIFYD_AUTH_API_KEYS": strings.Repeat("7f", 32)} // as `openssl rand -hex 32` writes
	vars := map[string]string{}
	for k, v := range app.Environment {
		vars[k] = interpolate(v, dotEnv)
	}
	got, err := config.Load(writeFile(t, ""), true, env(vars))
	if err != nil {
		t.Fatalf("notifyd's compose environment does not load: %v", err)
	}
	if !strings.Contains(got.Database.URL, "@db:5432/notifyd") {
		t.Errorf("database.url does not point at the db service")
	}
	if dbPass := interpolate(db.Environment["POSTGRES_PASSWORD"], dotEnv); !strings.Contains(got.Database.URL, ":"+dbPass+"@") {
		t.Errorf("database.url does not use db's POSTGRES_PASSWORD")
	}
	// The task demo stores notifications for anyone who asks: on in the
	// zero-config run, off in the deployment compose describes.
	if !config.Default().Demo.Tasks || got.Demo.Tasks {
		t.Errorf("demo.tasks: default %v, compose %v; want on by default and off in compose",
			config.Default().Demo.Tasks, got.Demo.Tasks)
	}
	if len(got.Auth.APIKeys) != 1 || got.Auth.APIKeys[0] != dotEnv["NOTIFYD_AUTH_API_KEYS"] {
		t.Errorf("want the one API key of .env, got %d keys", len(got.Auth.APIKeys))
	}
	if got.Metrics.Addr != ":9464" {
		t.Errorf("metrics.addr = %q, want :9464 in the container (published on 127.0.0.1)", got.Metrics.Addr)
	}
}

// TestDotEnvIgnored: the .env the README has you create holds the key; it
// must never be committed.
func TestDotEnvIgnored(t *testing.T) {
	b, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(b), "\n"), "/.env") {
		t.Error(".gitignore does not list /.env")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), `echo "NOTIFYD_AUTH_API_KEYS=$(openssl rand -hex 32)" > .env`) {
		t.Error("README does not show how to create .env with a random key")
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
