package main

// The JS client (web/notifyd-client.js) against a real notifyd: this test
// starts the service through run() with an HMAC token secret, creates a user
// and a session secret over the publisher API, and runs
// web/client.integration.test.mjs with node, handing it the URLs, the
// secrets and the token key in NOTIFYD_IT_* variables (the node side signs
// HS256 tokens as an app's backend would). It skips without node, and fails
// instead with CI=true (or NOTIFYD_REQUIRE_NODE).

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jsJWTSecret signs the tokens of the JS client test (≥ 32 bytes).
const jsJWTSecret = "js-client-test-hmac-secret-0123456789"

func TestJSClientAgainstNotifyd(t *testing.T) {
	node, flags := nodeWithWebSocket(t)
	env := testEnv(t)
	env["NOTIFYD_AUTH_JWT_HMAC_SECRETS"] = jsJWTSecret
	// A short leeway: the expiry test waits for the server to close a socket
	// whose token ran out.
	env["NOTIFYD_AUTH_JWT_LEEWAY"] = "1s"
	in := start(t, env)

	const ext = "app-user-42"
	_, secret := in.external(t, ext)

	script, err := filepath.Abs(filepath.Join("..", "..", "web", "client.integration.test.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append(flags, "--test", script)...)
	cmd.Env = append(os.Environ(),
		"NOTIFYD_IT_HTTP_URL="+in.HTTPURL,
		"NOTIFYD_IT_WS_URL="+in.WSURL,
		"NOTIFYD_IT_API_KEY="+testAPIKey,
		"NOTIFYD_IT_EXTERNAL_ID="+ext,
		"NOTIFYD_IT_SECRET="+secret,
		"NOTIFYD_IT_JWT_SECRET="+jsJWTSecret,
		"NOTIFYD_IT_JWT_LEEWAY_MS=1000",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s\nnotifyd logs:\n%s", filepath.Base(script), err, out, in.logs.String())
	}
	// A skipped node test would pass silently: every test must have run.
	if !strings.Contains(string(out), "# skipped 0") || strings.Contains(string(out), "# pass 0") {
		t.Fatalf("node tests skipped or missing:\n%s", out)
	}
	t.Logf("node:\n%s", out)
}

// nodeWithWebSocket finds node and the flags that give it a global
// WebSocket (--experimental-websocket on Node 20.10–21). Without node it
// skips, unless CI requires it.
func nodeWithWebSocket(tb testing.TB) (string, []string) {
	tb.Helper()
	required := os.Getenv("CI") == "true" || os.Getenv("CI") == "1" || os.Getenv("NOTIFYD_REQUIRE_NODE") != ""
	node, err := exec.LookPath("node")
	if err != nil {
		if required {
			tb.Fatal("no node binary, and CI requires the JS client tests: install Node.js ≥ 20.10")
		}
		tb.Skip("JS client tests skipped: no node binary (install Node.js ≥ 20.10)")
	}
	probe := `process.exit(typeof WebSocket === "function" ? 0 : 3)`
	for _, flags := range [][]string{nil, {"--experimental-websocket"}} {
		if exec.Command(node, append(flags, "-e", probe)...).Run() == nil {
			return node, flags
		}
	}
	version, _ := exec.Command(node, "--version").Output()
	if required {
		tb.Fatalf("node %s has no WebSocket, even with --experimental-websocket: Node.js ≥ 20.10 needed", strings.TrimSpace(string(version)))
	}
	tb.Skipf("JS client tests skipped: node %s has no WebSocket (Node.js ≥ 20.10 needed)", strings.TrimSpace(string(version)))
	return "", nil
}
