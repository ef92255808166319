package main

// Browser tests of notifications that link somewhere (issue 8, section 5):
// a click on an item with a url marks it read and opens the url (a path in
// the same tab, another site in a new tab without access to its opener), a
// click on a toast opens its notification in the panel, and a javascript:
// url is refused by the API and never becomes a link, even when stored.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestBrowserLinks(t *testing.T) {
	env := browserEnv(t)
	in := start(t, env)
	// elsewhere is another site: it records what the new tab asked for.
	var mu sync.Mutex
	var visits []*http.Request
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		visits = append(visits, r.Clone(context.Background()))
		mu.Unlock()
		fmt.Fprint(w, "<!doctype html><title>Invoice 7</title>")
	}))
	t.Cleanup(elsewhere.Close)

	browser := newBrowser(t)
	a := openTab(t, browser, "tab", in.HTTPURL)
	const ext = "ivy"
	uid := a.signInExternal(in, ext)
	a.openPanel()

	// A toast click opens the panel at its notification.
	a.do(chromedp.Click(sel("bell")))
	a.waitFor("panel closed", q("panel")+`.hidden`, settle)
	plain := publishLink(t, in, ext, "Weekly report ready", "")
	toast := fmt.Sprintf(`[data-testid="toast"][data-id="%d"] [data-testid="toast-open"]`, plain)
	a.waitFor("toast shown", fmt.Sprintf(`document.querySelector(%q) !== null`, toast), liveWithin)
	a.do(chromedp.Click(chromedp.CSS(toast)))
	a.waitFor("panel open at the notification", `!`+q("panel")+`.hidden && `+itemJS(plain)+`.classList.contains("expanded") && `+
		itemJS(plain)+`.contains(document.activeElement) && document.querySelector('[data-testid="toast"][data-id="`+fmt.Sprint(plain)+`"]') === null`, settle)

	// A url on another site: a real link to a new tab, without the opener.
	invoice := elsewhere.URL + "/invoices/7"
	ext1 := publishLink(t, in, ext, "Invoice 7 is due", invoice)
	anchor := itemJS(ext1) + `.querySelector('a[data-testid="item-open"]')`
	a.waitFor("external item is a link", anchor+` !== null && `+badgeIs(2), liveWithin)
	if got := evalIn[[]string](a, `["href", "target", "rel"].map(k => `+anchor+`.getAttribute(k))`); got[0] != invoice || got[1] != "_blank" || got[2] != "noopener noreferrer" {
		t.Errorf("external link href, target, rel = %q", got)
	}
	opened := chromedp.WaitNewTarget(a.ctx, func(info *target.Info) bool { return info.URL == invoice })
	a.do(chromedp.Click(itemSel(ext1, "item-open")))
	var newTab target.ID
	select {
	case newTab = <-opened:
	case <-time.After(settle):
		t.Fatal("no new tab opened for the external url")
	}
	a.waitFor("external item read, this tab stays", itemJS(ext1)+`.dataset.read === "true" && `+badgeIs(1)+` && location.href === "`+in.HTTPURL+`/"`, liveWithin)
	nt, cancel := chromedp.NewContext(a.ctx, chromedp.WithTargetID(newTab))
	defer cancel()
	ctx, cancelWait := context.WithTimeout(nt, settle)
	defer cancelWait()
	if noOpener, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.opener === null`)); err != nil || !noOpener {
		t.Errorf("new tab: window.opener === null is %v (err %v)", noOpener, err)
	}
	mu.Lock()
	if len(visits) != 1 || visits[0].URL.Path != "/invoices/7" || visits[0].Referer() != "" {
		t.Errorf("the other site saw %d visits, first %+v", len(visits), visits)
	}
	mu.Unlock()

	// A javascript: url is refused, naming the field; one stored around the
	// API (a restored backup, a manual INSERT) is shown as plain text.
	var refused struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	body := map[string]string{"title": "Click me", "url": "javascript:document.title='pwned'"}
	if code := in.api(t, "POST", "/api/publisher/users/"+ext+"/notifications", testAPIKey, body, &refused); code != http.StatusBadRequest || refused.Error.Code != notify.EINVALID || !strings.HasPrefix(refused.Error.Message, "url:") {
		t.Errorf("javascript: url: %d %+v, want 400 naming url", code, refused)
	}
	stored := storeAroundAPI(t, env, uid, notify.NewNotification{Title: "Stored around the API", URL: "javascript:document.title='pwned'"})

	// A path on this site: marked read, then this tab goes there.
	path := publishLink(t, in, ext, "Capsule 42 opened", "/capsules/42")
	a.do(chromedp.Reload())
	a.waitConnected()
	a.waitFor("path item is a same-tab link; the stored javascript: url is not a link", itemJS(path)+`?.querySelector('a[data-testid="item-open"]')?.getAttribute("href") === "/capsules/42" && `+
		itemJS(path)+`.querySelector("a").getAttribute("target") === null && `+
		itemJS(stored)+`?.querySelector('button[data-testid="item-open"]') !== null && `+
		`[...`+q("list")+`.querySelectorAll("a")].every(l => /^(https?:|\/[^/\\])/i.test(l.getAttribute("href")))`, settle)
	screenshot(a, "links.png")
	a.do(chromedp.Click(itemSel(stored, "item-open")))
	a.waitFor("a click on it only marks it read", itemJS(stored)+`.dataset.read === "true"`, liveWithin)
	if evalIn[bool](a, `document.title === "pwned"`) {
		t.Error("a stored javascript: url ran")
	}
	a.noConsoleErrors()

	a.do(chromedp.Click(itemSel(path, "item-open")))
	a.waitFor("navigated to the path", `location.pathname === "/capsules/42"`, settle)
	a.do(chromedp.Navigate(in.HTTPURL))
	a.waitConnected()
	a.waitFor("the path item was marked read before leaving", itemJS(path)+`?.dataset.read === "true" && `+badgeIs(1), settle)
}

// publishLink publishes a notification with a url ("" for none) to ext.
func publishLink(tb testing.TB, in *instance, ext, title, url string) int64 {
	tb.Helper()
	n, err := in.publisher(tb).Notify(context.Background(), ext,
		client.NewNotification{Title: title, Style: client.StyleInfo, URL: url})
	if err != nil {
		tb.Fatalf("publish %q: %v", title, err)
	}
	return n.ID
}

// storeAroundAPI inserts a notification straight into the database,
// without the domain's checks, as a restored backup or a manual INSERT
// would; the running notifyd shows it on the next reload.
func storeAroundAPI(tb testing.TB, env map[string]string, userID int64, n notify.NewNotification) int64 {
	tb.Helper()
	st := openStore(tb, env)
	defer st.Close()
	rows, _, err := storetest.InsertNotifications(context.Background(), st, []int64{userID}, n, time.Now())
	if err != nil || len(rows) != 1 {
		tb.Fatalf("insert: %v (%d rows)", err, len(rows))
	}
	return rows[0].ID
}
