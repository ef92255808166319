package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeSection returns the fenced blocks of language lang in the README
// section titled heading (up to the next "## ").
func readmeSection(tb testing.TB, heading, lang string) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(tb), "README.md"))
	if err != nil {
		tb.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "\n## "+heading+"\n")
	if start < 0 {
		tb.Fatalf("README has no section %q", heading)
	}
	s = s[start+1:]
	if end := strings.Index(s[3:], "\n## "); end >= 0 {
		s = s[:end+3]
	}
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

func repoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// TestReadmeIntegration runs the shell steps of the README's "Integrate
// with your app" as written, against a notifyd started with the README's
// settings (on free ports instead of 8000 and 8001): the three ways to
// sign a token each give a token that reads the user's inbox, and the
// publish command creates the notification once, however often it runs.
func TestReadmeIntegration(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required in CI for the README's Node example")
		}
		t.Skip("node not installed")
	}
	blocks := readmeSection(t, "Integrate with your app", "sh")
	if len(blocks) != 3 {
		t.Fatalf("the section has %d sh blocks, want 3 (start, sign, publish)", len(blocks))
	}
	env := testEnv(t)
	const key, secret = "readme-publisher-key-0123456789abcdef", "readme-jwt-secret-0123456789abcdef"
	env["NOTIFYD_AUTH_API_KEYS"], env["NOTIFYD_AUTH_JWT_HMAC_SECRETS"] = key, secret
	in := start(t, env)
	addr := strings.TrimPrefix(in.HTTPURL, "http://")

	run := func(t *testing.T, script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", strings.ReplaceAll(script, "localhost:8000", addr))
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "NOTIFYD_AUTH_API_KEYS="+key, "NOTIFYD_AUTH_JWT_HMAC_SECRETS="+secret)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s\n%v\n%s", script, err, stderr.String())
		}
		return string(out)
	}

	t.Run("sign", func(t *testing.T) {
		tokens := strings.Fields(run(t, blocks[1]))
		if len(tokens) != 3 {
			t.Fatalf("signing printed %q, want 3 tokens", tokens)
		}
		for i, token := range tokens {
			var me struct {
				User struct {
					ExternalID string `json:"external_id"`
				} `json:"user"`
			}
			if code := in.api(t, "GET", "/api/me", token, nil, &me); code != http.StatusOK || me.User.ExternalID != "user-42" {
				t.Fatalf("token %d: /api/me %d, user %q", i, code, me.User.ExternalID)
			}
		}
	})
	t.Run("publish", func(t *testing.T) {
		first := run(t, blocks[2])
		var out struct {
			Notification struct {
				ID    int64           `json:"id"`
				URL   string          `json:"url"`
				Data  json.RawMessage `json:"data"`
				Title string          `json:"title"`
			} `json:"notification"`
		}
		if err := json.Unmarshal([]byte(first), &out); err != nil || out.Notification.ID == 0 || out.Notification.URL != "/videos/7" {
			t.Fatalf("publish printed %q (%v)", first, err)
		}
		if again := run(t, blocks[2]); again != first {
			t.Fatalf("the retry printed %q, the first %q", again, first)
		}
	})
}
