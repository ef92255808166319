package httpserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// TestIdempotencyKey covers the Idempotency-Key header on both create
// routes: a retry replays the first answer byte for byte and creates and
// pushes nothing; the same key with another body is 422; keys belong to
// one API key; bad keys are 400 naming the header.
func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	alice, secret := e.externalSession(t, "alice")
	tab := e.subscribe(t, alice.ID, 1)
	withKey := func(r req, key string) req {
		r.apiKey = testAPIKey
		r.header = map[string]string{"Idempotency-Key": key}
		return r
	}
	single := req{method: "POST", path: "/api/publisher/users/alice/notifications", body: `{"title":"Invoice 42","url":"/invoices/42"}`}
	bulk := req{method: "POST", path: "/api/publisher/notifications", body: `{"user_ids":["alice","bob"],"title":"Maintenance"}`}

	for _, tc := range []struct {
		name   string
		r      req
		frames int
	}{{"single", single, 1}, {"bulk", bulk, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "key-" + tc.name
			first := e.do(t, withKey(tc.r, key)).Want(t, http.StatusCreated)
			if first.Header.Get("Idempotent-Replayed") != "" {
				t.Fatal("a first answer is marked replayed")
			}
			for range tc.frames {
				frame(t, tab, time.Second)
			}
			for range 3 {
				again := e.do(t, withKey(tc.r, key)).Want(t, http.StatusCreated)
				if !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("retry answered %s (replayed %q), first %s", again.Body, again.Header.Get("Idempotent-Replayed"), first.Body)
				}
			}
			wantNoFrame(t, tab)

			changed := tc.r
			changed.body = strings.Replace(tc.r.body.(string), `"title":"`, `"title":"Changed `, 1)
			e.do(t, withKey(changed, key)).WantError(t, http.StatusUnprocessableEntity, notify.EIDEMPOTENCY, "Idempotency-Key")
			// The same body on another path (another user) is another
			// request too.
			if tc.name == "single" {
				other := tc.r
				other.path = "/api/publisher/users/bob/notifications"
				e.do(t, withKey(other, key)).WantError(t, http.StatusUnprocessableEntity, notify.EIDEMPOTENCY, "Idempotency-Key")
			}
			// Another publisher's key space.
			r := withKey(tc.r, key)
			r.apiKey = testAPIKey2
			if got := e.do(t, r).Want(t, http.StatusCreated); got.Header.Get("Idempotent-Replayed") != "" {
				t.Fatal("another API key's request was replayed")
			}
			frame(t, tab, time.Second)
		})
	}
	var l listJSON
	e.do(t, req{method: "GET", path: "/api/notifications", secret: secret}).Want(t, http.StatusOK).Decode(t, &l)
	if len(l.Notifications) != 4 {
		t.Fatalf("alice has %d notifications, want 4 (one per key and API key)", len(l.Notifications))
	}

	t.Run("bad keys", func(t *testing.T) {
		for name, key := range map[string]string{
			"empty": "", "256 characters": strings.Repeat("k", 256), "control character": "a\tb", "non-ASCII": "clé",
		} {
			t.Run(name, func(t *testing.T) {
				e.do(t, withKey(single, key)).WantError(t, http.StatusBadRequest, notify.EINVALID, "Idempotency-Key")
			})
		}
		t.Run("255 characters", func(t *testing.T) {
			e.do(t, withKey(single, strings.Repeat("k", 255))).Want(t, http.StatusCreated)
			frame(t, tab, time.Second)
		})
	})

	t.Run("concurrent requests with one key create one row", func(t *testing.T) {
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			bodies = map[string]int{}
		)
		r := withKey(req{method: "POST", path: "/api/publisher/users/carol/notifications", body: `{"title":"once"}`}, "concurrent")
		for range 8 {
			wg.Go(func() {
				got := e.do(t, r)
				mu.Lock()
				defer mu.Unlock()
				bodies[fmt.Sprintf("%d %s", got.Status, got.Body)]++
			})
		}
		wg.Wait()
		if len(bodies) != 1 {
			t.Fatalf("answers: %v", bodies)
		}
		_, carolSecret := e.externalSession(t, "carol")
		e.do(t, req{method: "GET", path: "/api/notifications", secret: carolSecret}).Want(t, http.StatusOK).Decode(t, &l)
		if len(l.Notifications) != 1 {
			t.Fatalf("carol has %d notifications, want 1", len(l.Notifications))
		}
	})

	t.Run("a refused request stores no key", func(t *testing.T) {
		bad := withKey(req{method: "POST", path: "/api/publisher/users/alice/notifications", body: `{"title":""}`}, "refused")
		e.do(t, bad).WantError(t, http.StatusBadRequest, notify.EINVALID, "title")
		good := withKey(req{method: "POST", path: "/api/publisher/users/alice/notifications", body: `{"title":"fixed"}`}, "refused")
		e.do(t, good).Want(t, http.StatusCreated)
		frame(t, tab, time.Second)
	})
}

// TestIdempotencyKeySurvivesRestart: the database decides, so a new
// server over the same database replays the answer of the old one.
func TestIdempotencyKeySurvivesRestart(t *testing.T) {
	e := newEnv(t)
	r := req{method: "POST", path: "/api/publisher/users/dan/notifications", apiKey: testAPIKey,
		header: map[string]string{"Idempotency-Key": "across-restarts"}, body: `{"title":"t"}`}
	first := e.do(t, r).Want(t, http.StatusCreated)
	restarted := newEnvWith(t, envOptions{store: e.Store})
	again := restarted.do(t, r).Want(t, http.StatusCreated)
	if !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after a restart: %s, first %s", again.Body, first.Body)
	}
}
