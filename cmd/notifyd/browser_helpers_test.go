package main

// Helpers of the browser tests (browser_test.go): a real notifyd on fixed
// free ports, a headless chromium per test, tabs that fail on console
// errors, and selectors by data-testid.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/store"
)

const (
	browserPassword = "correct horse battery"
	// liveWithin is how soon a live change must show (issue 3: "within 1 s").
	liveWithin = time.Second
	// settle bounds everything that is not a live-delivery promise: page
	// loads, logins, reconnect backoff.
	settle = 20 * time.Second
)

// browserEnv is testEnv on fixed free ports: the page must learn a
// websocket URL that works, and a restart must reuse the same ports.
func browserEnv(tb testing.TB) map[string]string {
	tb.Helper()
	env := testEnv(tb)
	httpAddr, wsAddr := freeAddr(tb), freeAddr(tb)
	env["NOTIFYD_HTTP_ADDR"] = httpAddr
	env["NOTIFYD_WS_ADDR"] = wsAddr
	env["NOTIFYD_HTTP_PUBLIC_URL"] = "http://" + httpAddr
	env["NOTIFYD_WS_PUBLIC_URL"] = "ws://" + wsAddr + "/ws"
	return env
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newBrowser starts headless chromium with a fresh profile.
func newBrowser(tb testing.TB) context.Context {
	tb.Helper()
	path := os.Getenv("NOTIFYD_TEST_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path == "" {
			path, _ = exec.LookPath(name)
		}
	}
	if path == "" {
		if ci := os.Getenv("CI"); ci == "true" || ci == "1" || os.Getenv("NOTIFYD_REQUIRE_BROWSER") != "" {
			tb.Fatal("no chromium binary, and CI requires the browser tests: apt-get install chromium")
		}
		tb.Skip("browser tests skipped: no chromium binary (apt-get install chromium, or set NOTIFYD_TEST_CHROMIUM)")
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		tb.Fatalf("start %s: %v", path, err)
	}
	return bctx
}

// tab is one browser tab with its console errors and websocket count.
type tab struct {
	tb      testing.TB
	name    string
	ctx     context.Context
	mu      sync.Mutex
	errs    []string
	netErrs []string     // failed requests, as the console shows them
	sockets atomic.Int64 // websockets the page opened
}

// browserTab starts notifyd with env (browserEnv, perhaps changed) and
// opens its page in one tab of a new browser: the start of most browser
// tests.
func browserTab(tb testing.TB, env map[string]string) (*instance, *tab) {
	tb.Helper()
	in := start(tb, env)
	return in, openTab(tb, newBrowser(tb), "tab", in.HTTPURL)
}

// openTab opens url in a new tab of browser, after the steps of before
// (beforeLoad scripts, cookies).
func openTab(tb testing.TB, browser context.Context, name, url string, before ...chromedp.Action[chromedp.Void]) *tab {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t := &tab{tb: tb, name: name, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("%s: open tab: %v", name, err)
	}
	done := make(chan struct{})
	console := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			t.console(m)
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*network.EventWebSocketCreated); ok {
			t.sockets.Add(1)
		}
	}); err != nil {
		tb.Fatal(err)
	}
	t.do(before...)
	t.do(chromedp.Navigate(url))
	return t
}

// beforeLoad runs js in every document of the tab before the page's own
// scripts.
func beforeLoad(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
		return err
	})
}

// setCookie stores an HttpOnly cookie for url in the browser, as a login
// at that address would.
func setCookie(url, name, value string) chromedp.Action[chromedp.Void] {
	httpOnly := true
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: url, Path: "/", HTTPOnly: &httpOnly})
		return err
	})
}

// networkErrors returns the failed requests the console showed.
func (t *tab) networkErrors() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.netErrs)
}

// console keeps what a developer would see as an error. Failed requests
// (websocket refusals while the server restarts) are network noise the
// page handles, not page errors: they are kept apart (networkErrors).
func (t *tab) console(m chromedp.ConsoleMessage) {
	if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException && m.Type != chromedp.ConsoleWarning {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.Source == "network" || strings.HasPrefix(m.Text, "WebSocket connection to") {
		t.netErrs = append(t.netErrs, m.String())
		return
	}
	t.errs = append(t.errs, m.String())
}

func (t *tab) noConsoleErrors() {
	t.tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) > 0 {
		t.tb.Errorf("%s: console errors:\n%s", t.name, strings.Join(t.errs, "\n"))
	}
}

func (t *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	t.tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, settle)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.tb.Fatalf("%s: %v", t.name, err)
	}
}

func evalIn[T any](t *tab, expr string) T {
	t.tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, settle)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.tb.Fatalf("%s: eval %s: %v", t.name, expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition from Go (in-page polling would be
// throttled in a background tab) until it holds or `within` passes.
func (t *tab) waitFor(what, expr string, within time.Duration) {
	t.tb.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, err := chromedp.Run(t.ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(t.ctx, chromedp.Evaluate[string](`document.querySelector('header').innerText + ' | ' + document.querySelector('main').innerText.slice(0, 800)`))
			t.tb.Fatalf("%s: %s: not within %v (%s; err %v)\npage: %s", t.name, what, within, expr, err, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// q is the JavaScript for the element with a data-testid.
func q(id string) string { return fmt.Sprintf(`document.querySelector('[data-testid=%q]')`, id) }

func sel(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

func itemJS(id int64) string {
	return fmt.Sprintf(`document.querySelector('[data-testid="item"][data-id="%d"]')`, id)
}

func itemSel(id int64, child string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[data-testid="item"][data-id="%d"] [data-testid=%q]`, id, child))
}

// badgeIs is the condition "the bell shows n unread" (hidden at 0).
func badgeIs(n int) string {
	if n == 0 {
		return q("badge") + `.hidden`
	}
	return fmt.Sprintf(`!%s.hidden && %s.textContent === %q`, q("badge"), q("badge"), fmt.Sprint(n))
}

// clear empties form fields, as selecting and deleting their text would.
func (t *tab) clear(ids ...string) {
	t.tb.Helper()
	for _, id := range ids {
		evalIn[bool](t, q(id)+`.value = "", true`)
	}
}

func (t *tab) waitConnected() {
	t.tb.Helper()
	t.waitFor("connection indicator shows connected", q("conn-status")+`.dataset.state === "connected"`, settle)
}

func (t *tab) signUp(name string) {
	t.tb.Helper()
	t.waitFor("sign-up form shown", `!`+q("auth")+`.hidden`, settle)
	t.do(chromedp.SendKeys(sel("signup-username"), name),
		chromedp.SendKeys(sel("signup-password"), browserPassword),
		chromedp.Click(sel("signup-submit")))
	t.waitFor("inbox shown after sign-up", `!`+q("app")+`.hidden && `+q("username")+`.textContent === "`+name+`"`, settle)
	t.waitConnected()
}

func (t *tab) openPanel() {
	t.tb.Helper()
	if evalIn[bool](t, q("panel")+`.hidden`) {
		t.do(chromedp.Click(sel("bell")))
	}
	t.waitFor("panel open", `!`+q("panel")+`.hidden && `+q("bell")+`.getAttribute("aria-expanded") === "true"`, settle)
}

// signInExternal is the flow of an app that embeds notifyd: its backend
// creates its user ext through the publisher API, opens a session for it,
// and hands the secret to the browser as the session cookie; the page
// then shows that user's inbox. It returns the user's id.
func (t *tab) signInExternal(in *instance, ext string) int64 {
	t.tb.Helper()
	pub, ctx, name := in.publisher(t.tb), context.Background(), ext
	u, _, err := pub.PutUser(ctx, ext, &name) // created or found
	if err != nil {
		t.tb.Fatalf("create external user %s: %v", ext, err)
	}
	s, err := pub.NewSession(ctx, ext)
	if err != nil {
		t.tb.Fatalf("session of %s: %v", ext, err)
	}
	t.do(setCookie(in.HTTPURL, "notifyd_session", s.Secret), chromedp.Reload())
	t.waitFor("inbox shown for "+ext, `!`+q("app")+`.hidden && `+q("username")+`.textContent === "`+ext+`"`, settle)
	t.waitConnected()
	return u.ID
}

// publish creates a notification for the app's user ext through the
// publisher API and returns its id.
func publish(tb testing.TB, in *instance, ext, title, content, style string) int64 {
	tb.Helper()
	n, err := in.publisher(tb).Notify(context.Background(), ext,
		client.NewNotification{Title: title, Content: content, Style: client.Style(style)})
	if err != nil {
		tb.Fatalf("publish: %v", err)
	}
	return n.ID
}

// publishWhileDown stores a notification through the domain while notifyd
// is stopped, as another instance of the service would.
func publishWhileDown(tb testing.TB, env map[string]string, userID int64, title string) int64 {
	tb.Helper()
	st := openStore(tb, env)
	defer st.Close()
	return testkit.NewStack(tb, testkit.Config{Store: st}).Notify(tb, userID, title).ID
}

// openStore opens the database of a test instance's env; the caller
// closes it.
func openStore(tb testing.TB, env map[string]string) *store.Store {
	tb.Helper()
	cfg := config.Default().Database
	cfg.URL, cfg.SQLitePath = env["NOTIFYD_DATABASE_URL"], env["NOTIFYD_DATABASE_SQLITE_PATH"]
	st, err := store.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func screenshot(t *tab, file string) {
	t.tb.Helper()
	dir := os.Getenv("NOTIFYD_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(t.ctx, settle)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
		t.tb.Fatal(err)
	}
}
