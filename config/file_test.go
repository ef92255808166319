package config_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/notifyd/notifyd/config"
)

// repoConfig is the documented configuration at the repository root.
const repoConfig = "../config.toml"

// TestRepoConfigIsDefault keeps config.toml, the documentation of every key,
// equal to the code's defaults.
func TestRepoConfigIsDefault(t *testing.T) {
	got, err := config.Load(repoConfig, true, nil)
	if err != nil {
		t.Fatalf("the repository's config.toml does not load: %v", err)
	}
	if !reflect.DeepEqual(got, defaults()) {
		t.Fatalf("config.toml differs from Default():\nfile    %+v\ndefault %+v", got, defaults())
	}
	// Loading over a zero Config, not over the defaults, proves the file sets
	// each value itself rather than inheriting it.
	b, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	var zero config.Config
	if err := toml.NewDecoder(strings.NewReader(string(b))).DisallowUnknownFields().Decode(&zero); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(zero.Normalized(), defaults()) {
		t.Fatalf("config.toml decoded over a zero Config differs from Default():\nfile    %+v\ndefault %+v", zero.Normalized(), defaults())
	}
}

// TestRepoConfigListsEveryKey checks that every key is written in the file,
// even those whose default is the zero value (false, "", []).
func TestRepoConfigListsEveryKey(t *testing.T) {
	b, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := toml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ct := reflect.TypeFor[config.Config]()
	for i := range ct.NumField() {
		section := ct.Field(i).Tag.Get("toml")
		for j := range ct.Field(i).Type.NumField() {
			key := ct.Field(i).Type.Field(j).Tag.Get("toml")
			if _, ok := doc[section][key]; !ok {
				t.Errorf("config.toml does not document %s.%s", section, key)
			}
		}
	}
	for _, secret := range []struct{ section, key string }{{"auth", "api_keys"}, {"database", "url"}, {"cluster", "listen_url"}} {
		if v := reflect.ValueOf(doc[secret.section][secret.key]); !v.IsValid() || v.Len() != 0 {
			t.Errorf("config.toml: %s.%s must be empty in the committed file", secret.section, secret.key)
		}
	}
}
