package main

// Browser tests of what a first run stumbled on (issue 10, items 13 and 17):
// a page opened at another address than http.public_url, a machine whose
// browser says "offline", the console of a logged-out visit, a failing
// task's bar, and read items that looked unread.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLoggedOutVisitIsQuiet: opening the page without a session
// shows the login form with no failed request in the console (the session
// probe answers 200 {"user": null}, not 401).
func TestBrowserLoggedOutVisitIsQuiet(t *testing.T) {
	_, a := browserTab(t, browserEnv(t))
	a.waitFor("login form", `!`+q("auth")+`.hidden && `+q("boot")+`.hidden`, settle)
	a.do(chromedp.Reload())
	a.waitFor("login form after reload", `!`+q("auth")+`.hidden && `+q("boot")+`.hidden`, settle)
	if errs := a.networkErrors(); len(errs) > 0 {
		t.Errorf("a logged-out visit logged failed requests:\n%s", strings.Join(errs, "\n"))
	}
	a.noConsoleErrors()
}

// TestBrowserWrongOrigin: the page opened at http://localhost:PORT while
// http.public_url says http://127.0.0.1:PORT says what is wrong and how to
// fix it, does not retry the websocket forever, and "Start task" shows
// the API's explanation; the server logs the refusal at WARN.
func TestBrowserWrongOrigin(t *testing.T) {
	in := start(t, browserEnv(t))
	port := in.HTTPURL[strings.LastIndex(in.HTTPURL, ":")+1:]
	wrong := "http://localhost:" + port
	var login struct{ Secret string }
	in.api(t, "POST", "/api/users", "", map[string]string{"username": "gus", "password": browserPassword}, nil)
	if code := in.api(t, "POST", "/api/sessions", "", map[string]string{"username": "gus", "password": browserPassword}, &login); code != http.StatusCreated {
		t.Fatalf("login: %d", code)
	}
	a := openTab(t, newBrowser(t), "tab", wrong, setCookie(wrong, "notifyd_session", login.Secret))

	a.waitFor("origin warning", `!`+q("origin-warning")+`.hidden`, settle)
	warning := evalIn[string](a, q("origin-warning")+`.textContent`)
	for _, want := range []string{"open at " + wrong, in.HTTPURL, "http.public_url"} {
		if !strings.Contains(warning, want) {
			t.Errorf("warning %q does not mention %q", warning, want)
		}
	}
	a.waitFor("inbox shown", `!`+q("app")+`.hidden`, settle)
	a.waitFor("live updates off, not reconnecting", q("conn-status")+`.dataset.state === "unavailable" && `+q("conn-status")+`.title.includes("http.public_url")`, settle)
	if n := a.sockets.Load(); n != 0 {
		t.Errorf("the page opened %d websockets that could only be refused", n)
	}

	a.do(chromedp.Click(sel("task-submit")))
	a.waitFor("task error names the origin and the fix", `!`+q("task-error")+`.hidden && `+
		q("task-error")+fmt.Sprintf(`.textContent.startsWith("origin %s not allowed; set http.public_url")`, wrong), settle)
	if !strings.Contains(in.logs.String(), `"level":"WARN","msg":"cookie request refused: origin not allowed"`) ||
		!strings.Contains(in.logs.String(), `"origin":"`+wrong+`"`) {
		t.Errorf("no WARN log of the refused request with its origin:\n%s", in.logs.String())
	}
	a.noConsoleErrors()
}

// TestBrowserOfflineHintKeepsTrying: a browser that says it is offline
// (a machine whose only network is loopback) still connects to
// ws://127.0.0.1 and shows "connected", not "Offline" forever.
func TestBrowserOfflineHintKeepsTrying(t *testing.T) {
	in := start(t, browserEnv(t))
	offline := beforeLoad(`Object.defineProperty(Navigator.prototype, "onLine", {get: () => false});`)
	a := openTab(t, newBrowser(t), "tab", in.HTTPURL, offline)
	if evalIn[bool](a, `navigator.onLine`) {
		t.Fatal("navigator.onLine is not faked")
	}
	a.signUp("hana") // waits for "connected"
	a.noConsoleErrors()
}

// TestBrowserFailingTaskStopsShort: a failing task's bar stops where it
// failed and says so; it never shows 100 % or "Done" before "Task failed".
func TestBrowserFailingTaskStopsShort(t *testing.T) {
	_, a := browserTab(t, browserEnv(t))
	a.signUp("ivy")
	// Record every state the bars go through, however briefly.
	evalIn[bool](a, `(window.seen = [], new MutationObserver(() => {
		for (const li of document.querySelectorAll('[data-testid="progress"]'))
			window.seen.push(li.dataset.progress + " " + li.querySelector(".task-pct").textContent + " " + li.className);
	}).observe(`+q("tasks")+`, {subtree: true, childList: true, attributes: true, characterData: true}), true)`)
	a.clear("task-duration")
	a.do(chromedp.SendKeys(sel("task-duration"), "1000"), chromedp.Click(sel("task-fail")), chromedp.Click(sel("task-submit")))
	a.waitFor("failure toast", `[...document.querySelectorAll('[data-testid="toast"][data-style="error"]')].some(e => e.textContent.includes("Task failed"))`, settle)
	seen := evalIn[[]string](a, `window.seen`)
	failedShown := false
	for _, s := range seen {
		if strings.HasPrefix(s, "1 ") || strings.Contains(s, "Done") || strings.Contains(s, "100%") {
			t.Fatalf("the failing task's bar showed %q; states: %q", s, seen)
		}
		failedShown = failedShown || (strings.Contains(s, "Failed at 60%") && strings.Contains(s, "failed"))
	}
	if !failedShown {
		t.Errorf("the bar never said where the task failed; states: %q", seen)
	}
	a.noConsoleErrors()
}

// TestBrowserReadLooksRead: an unread item has its style's coloured bar; a
// read one has none, so the two never look alike.
func TestBrowserReadLooksRead(t *testing.T) {
	in, a := browserTab(t, browserEnv(t))
	a.signInExternal(in, "joan")
	a.openPanel()
	read := publish(t, in, "joan", "Old news", "", "warning")
	unread := publish(t, in, "joan", "Fresh news", "", "warning")
	a.waitFor("two items", badgeIs(2), settle)
	a.do(chromedp.Click(itemSel(read, "item-open")))
	a.waitFor("one read", itemJS(read)+`.dataset.read === "true" && `+badgeIs(1), settle)
	bar := func(id int64) string {
		return evalIn[string](a, `getComputedStyle(`+itemJS(id)+`).borderLeftColor`)
	}
	if r, u := bar(read), bar(unread); r == u || r != "rgba(0, 0, 0, 0)" {
		t.Errorf("bar colour: read %q, unread %q; want the read one transparent", r, u)
	}
	a.noConsoleErrors()
}
