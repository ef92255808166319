package main

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBrowserLoginCSRF replays the login CSRF in Chromium: a page of
// another site auto-submits a <form enctype="text/plain"> whose one field
// makes the body read as JSON with the attacker's credentials. It used to
// log the visitor's browser into that account (the response set the
// session cookie). Now the request is refused, no cookie is set, and the
// inbox still asks the visitor to log in.
func TestBrowserLoginCSRF(t *testing.T) {
	in := start(t, browserEnv(t))
	// The attacker picks a password with "=" in it: text/plain sends
	// name + "=" + value, so the "=" lands inside the password and the body
	// is exactly {"username":"mallory","password":"let-me=in-now"}.
	cred := map[string]string{"username": "mallory", "password": "let-me=in-now"}
	if code := in.api(t, "POST", "/api/users", "", cred, nil); code != http.StatusCreated {
		t.Fatalf("sign up mallory: status %d", code)
	}
	page := fmt.Sprintf(`<!doctype html><form method="post" enctype="text/plain" action="%s/api/sessions">
<input type="hidden" name="%s" value='in-now"}'></form><script>document.forms[0].submit()</script>`,
		in.HTTPURL, html.EscapeString(`{"username":"mallory","password":"let-me`))
	// localhost is another site than the instance's 127.0.0.1.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	}))
	defer evil.Close()

	browser := newBrowser(t)
	attack := openTab(t, browser, "evil", strings.Replace(evil.URL, "127.0.0.1", "localhost", 1))
	attack.waitFor("notifyd's answer to the form", `location.pathname === "/api/sessions" && document.body.innerText !== ""`, settle)
	t.Logf("notifyd answered the form: %s", evalIn[string](attack, `document.body.innerText`))

	victim := openTab(t, browser, "victim", in.HTTPURL)
	victim.waitFor("the login form, not mallory's inbox", `!`+q("auth")+`.hidden && `+q("app")+`.hidden`, settle)
}
