package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/httpserver"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

const testKey = "client-test-publisher-key-0123456789"

// stack is a real notifyd HTTP API on the test kit's stack, with a hook in
// front of it to inject faults.
type stack struct {
	*testkit.Stack
	// fault, when set, handles a request instead of the API; it may call
	// api itself.
	fault atomic.Pointer[func(w http.ResponseWriter, r *http.Request, api http.Handler)]
}

func newStack(tb testing.TB) *stack {
	tb.Helper()
	s := &stack{}
	s.Stack = testkit.NewStack(tb, testkit.Config{HTTP: func(ks *testkit.Stack) testkit.Server {
		cfg := config.Default()
		cfg.Auth.APIKeys = []string{testKey}
		api := httpserver.New(httpserver.Config{HTTP: cfg.HTTP, Auth: cfg.Auth, WSPublicURL: cfg.WS.PublicURL},
			ks.Store, ks.Service, ks.Accounts, ks.Tasks, nil, ks.Logger, nil)
		return testkit.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if f := s.fault.Load(); f != nil {
				(*f)(w, r, api.Handler())
				return
			}
			api.Handler().ServeHTTP(w, r)
		})}
	}})
	return s
}

func (s *stack) client(tb testing.TB, opts ...client.Option) *client.Client {
	tb.Helper()
	c, err := client.New(s.HTTPURL, testKey, append([]client.Option{client.WithBackoff(time.Millisecond, 10*time.Millisecond)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// stored returns the notifications of the app's user ext.
func (s *stack) stored(tb testing.TB, ext string) []notify.Notification {
	tb.Helper()
	u, err := s.Store.UserByExternalID(context.Background(), ext)
	if err != nil {
		tb.Fatal(err)
	}
	list, _, err := s.Store.ListNotifications(context.Background(), u.ID, notify.ListQuery{Limit: 100})
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

func TestClientCalls(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	ctx := context.Background()

	name := "Alice A."
	u, created, err := c.PutUser(ctx, "auth0|alice", &name)
	if err != nil || !created || u.ExternalID != "auth0|alice" || u.Name != name || u.Username != "" || u.ID == 0 {
		t.Fatalf("PutUser = %+v, %v, %v", u, created, err)
	}
	if again, created, err := c.PutUser(ctx, "auth0|alice", nil); err != nil || created || again.ID != u.ID {
		t.Fatalf("PutUser again = %+v, %v, %v", again, created, err)
	}
	n, err := c.Notify(ctx, "auth0|alice", client.NewNotification{Title: "Video ready", Style: client.StyleWarning,
		URL: "/videos/7", Data: []byte(`{"video_id":7}`)})
	if err != nil || n.ID == 0 || n.Title != "Video ready" || n.Style != client.StyleWarning || *n.URL != "/videos/7" || string(n.Data) != `{"video_id":7}` {
		t.Fatalf("Notify = %+v, %v", n, err)
	}
	created2, err := c.NotifyMany(ctx, []string{"auth0|alice", "bob", "bob"}, client.NewNotification{Title: "Maintenance"})
	if err != nil || created2 != 2 {
		t.Fatalf("NotifyMany = %d, %v", created2, err)
	}
	sess, err := c.NewSession(ctx, "bob")
	if err != nil || sess.Secret == "" || sess.User.ExternalID != "bob" {
		t.Fatalf("NewSession = %+v, %v", sess, err)
	}
	testkit.Subscribe(t, s.Hub, sess.User.ID, 0)
	if got, err := c.SendEvent(ctx, "bob", "task_progress", map[string]float64{"progress": 0.5}); err != nil || got != 1 {
		t.Fatalf("SendEvent = %d, %v", got, err)
	}
	if got, err := c.SendEvent(ctx, "nobody", "ping", nil); err != nil || got != 0 {
		t.Fatalf("SendEvent to an unknown user = %d, %v", got, err)
	}

	t.Run("errors carry the code and are not retried", func(t *testing.T) {
		var calls atomic.Int64
		s.setFault(func(w http.ResponseWriter, r *http.Request, api http.Handler) {
			calls.Add(1)
			api.ServeHTTP(w, r)
		})
		defer s.setFault(nil)
		_, err := c.Notify(ctx, "auth0|alice", client.NewNotification{Title: "t", URL: "javascript:alert(1)"})
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || client.Code(err) != "invalid_request" || !strings.HasPrefix(e.Message, "url:") {
			t.Fatalf("err = %v", err)
		}
		if calls.Load() != 1 {
			t.Fatalf("%d attempts for a 400, want 1", calls.Load())
		}
	})
	t.Run("a key reused for another request", func(t *testing.T) {
		key := client.WithIdempotencyKey("job-1")
		if _, err := c.Notify(ctx, "bob", client.NewNotification{Title: "one"}, key); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Notify(ctx, "bob", client.NewNotification{Title: "two"}, key); client.Code(err) != "idempotency_key_reused" {
			t.Fatalf("err = %v", err)
		}
	})
}

func (s *stack) setFault(f func(w http.ResponseWriter, r *http.Request, api http.Handler)) {
	if f == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&f)
}

// TestClientRetriesLostAnswer: the server commits, then the connection is
// cut before the answer; the client retries with the same key and gets the
// first answer: one row.
func TestClientRetriesLostAnswer(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	var cut atomic.Bool
	s.setFault(func(w http.ResponseWriter, r *http.Request, api http.Handler) {
		if r.Method != http.MethodPost || !cut.CompareAndSwap(false, true) {
			api.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, r) // committed
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close() // the answer is lost
	})
	n, err := c.Notify(context.Background(), "carol", client.NewNotification{Title: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.stored(t, "carol"); len(got) != 1 || got[0].ID != n.ID {
		t.Fatalf("stored %+v, answer id %d", got, n.ID)
	}
}

// TestClientRetries503: 503s are retried up to the limit, honouring
// WithRetries.
func TestClientRetries503(t *testing.T) {
	s := newStack(t)
	var left atomic.Int64
	s.setFault(func(w http.ResponseWriter, r *http.Request, api http.Handler) {
		if left.Add(-1) >= 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"database unavailable"}}`))
			return
		}
		api.ServeHTTP(w, r)
	})
	left.Store(2)
	if _, err := s.client(t).Notify(context.Background(), "dan", client.NewNotification{Title: "t"}); err != nil {
		t.Fatalf("two 503s then success: %v", err)
	}
	left.Store(2)
	_, err := s.client(t, client.WithRetries(1)).Notify(context.Background(), "dan", client.NewNotification{Title: "t"})
	if client.Code(err) != "unavailable" {
		t.Fatalf("two 503s with one retry: %v, want unavailable", err)
	}
	if got := s.stored(t, "dan"); len(got) != 1 {
		t.Fatalf("%d rows stored, want 1", len(got))
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct{ url, key string }{{"localhost:8000", "k"}, {"ftp://x", "k"}, {"http://", "k"}, {"http://x", ""}} {
		if _, err := client.New(tc.url, tc.key); err == nil {
			t.Errorf("New(%q, %q) succeeded", tc.url, tc.key)
		}
	}
}

// TestClientWithoutKey: a create without a key sends no Idempotency-Key
// and is not repeated after a lost answer, since a repeat could store it
// twice; the error reaches the caller.
func TestClientWithoutKey(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	var keys []string
	var attempts atomic.Int64
	var cut atomic.Bool
	s.setFault(func(w http.ResponseWriter, r *http.Request, api http.Handler) {
		if r.Method != http.MethodPost {
			api.ServeHTTP(w, r)
			return
		}
		attempts.Add(1)
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		if !cut.Load() {
			api.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(httptest.NewRecorder(), r) // committed
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close() // the answer is lost
	})
	ctx := context.Background()
	if _, err := c.Notify(ctx, "erin", client.NewNotification{Title: "keyed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Notify(ctx, "erin", client.NewNotification{Title: "bare"}, client.WithoutIdempotencyKey()); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] == "" || keys[1] != "" {
		t.Fatalf("Idempotency-Key headers %q, want a key then none", keys)
	}
	cut.Store(true)
	attempts.Store(0)
	if _, err := c.Notify(ctx, "erin", client.NewNotification{Title: "lost"}, client.WithoutIdempotencyKey()); err == nil {
		t.Fatal("a lost answer without a key: no error")
	}
	if attempts.Load() != 1 {
		t.Fatalf("%d attempts after a lost answer without a key, want 1", attempts.Load())
	}
	if got := s.stored(t, "erin"); len(got) != 3 {
		t.Fatalf("%d rows stored, want 3", len(got))
	}
}
