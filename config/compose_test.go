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
	Services map[string]struct {
		Image       string            `yaml:"image"`
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
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// interpolate replaces ${VAR:-default} by its default, as compose does when
// VAR is unset.
func interpolate(s string) string {
	re := regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)
	return re.ReplaceAllString(s, "$1")
}

func TestDockerCompose(t *testing.T) {
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}

	db, ok := f.Services["db"]
	if !ok {
		t.Fatal("no service db")
	}
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

	app, ok := f.Services["notifyd"]
	if !ok {
		t.Fatal("no service notifyd")
	}
	if app.Build != "." {
		t.Errorf("notifyd build = %q, want .", app.Build)
	}
	if got := strings.Join(app.Healthcheck.Test, " "); got != "CMD /notifyd healthcheck" {
		t.Errorf("notifyd healthcheck = %q, want the binary's healthcheck command", got)
	}
	for _, p := range []string{"8000:8000", "8001:8001"} {
		if !slices.Contains(app.Ports, p) {
			t.Errorf("notifyd ports = %q, want %s", app.Ports, p)
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
	vars := map[string]string{}
	for k, v := range app.Environment {
		vars[k] = interpolate(v)
	}
	got, err := config.Load(writeFile(t, ""), true, env(vars))
	if err != nil {
		t.Fatalf("notifyd's compose environment does not load: %v", err)
	}
	if !strings.Contains(got.Database.URL, "@db:5432/notifyd") {
		t.Errorf("database.url does not point at the db service")
	}
	if dbPass := interpolate(db.Environment["POSTGRES_PASSWORD"]); !strings.Contains(got.Database.URL, ":"+dbPass+"@") {
		t.Errorf("database.url does not use db's POSTGRES_PASSWORD")
	}
	// The task demo stores notifications for anyone who asks: on in the
	// zero-config run, off in the deployment compose describes.
	if !config.Default().Demo.Tasks || got.Demo.Tasks {
		t.Errorf("demo.tasks: default %v, compose %v; want on by default and off in compose",
			config.Default().Demo.Tasks, got.Demo.Tasks)
	}
	if len(got.Auth.APIKeys) != 1 || !strings.Contains(got.Auth.APIKeys[0], "dev") {
		t.Errorf("want one clearly dev-only placeholder API key, got %d keys", len(got.Auth.APIKeys))
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
