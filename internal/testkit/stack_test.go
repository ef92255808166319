package testkit_test

import (
	"net/http"
	"testing"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/httpserver"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/wsserver"
)

// fullStack is both listeners on the kit's stack, built through the
// servers' exported constructors, as a suite outside the two adapters
// (cluster, end to end in process) would build it.
func fullStack(tb testing.TB) *testkit.Stack {
	tb.Helper()
	cfg := config.Default()
	cfg.Auth.APIKeys = []string{testkit.APIKey}
	return testkit.NewStack(tb, testkit.Config{
		HTTP: func(s *testkit.Stack) testkit.Server {
			api := httpserver.New(httpserver.Config{HTTP: cfg.HTTP, Auth: cfg.Auth, WSPublicURL: cfg.WS.PublicURL},
				s.Store, s.Service, s.Accounts, s.Tasks, nil, s.Logger, nil)
			return testkit.Server{Handler: api.Handler()}
		},
		WS: func(s *testkit.Stack) testkit.Server {
			ws := wsserver.New(cfg.WS, s.Hub, s.Service, s.Accounts, s.Store, s.Logger, nil)
			return testkit.Server{Handler: ws.Handler(), Close: ws.Close}
		},
	})
}

// TestStackDeliversOnce runs the kit against the real servers: a user
// signed up through the API gets every notification once, in order, on a
// socket and on a hub subscriber, and logging out closes the socket with
// 4401.
func TestStackDeliversOnce(t *testing.T) {
	s := fullStack(t)
	api := s.API(t)
	alice, secret := api.User(t, "alice")
	tab := testkit.Connect(t, s.WSURL, testkit.SecretAuth(secret, -1), nil).Collect(t)
	sub, err := s.Hub.Register(alice.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	sub.GoLive(0)
	hub := testkit.CollectHub(t, s.Hub, sub)

	for _, title := range []string{"one", "two", "three"} {
		s.Notify(t, alice.ID, title)
	}
	if f := tab.WaitFrame(t, 2); f.Type != "notification" || f.Notification.Title != "three" {
		t.Fatalf("third frame = %s, want notification three", f.Raw)
	}
	if f := hub.WaitFrame(t, 2); f.Notification == nil || f.Notification.Title != "three" {
		t.Fatalf("third hub frame = %s, want notification three", f.Raw)
	}
	stored := api.NotificationIDs(t, secret)
	if len(stored) != 3 {
		t.Fatalf("stored %v, want 3 ids", stored)
	}
	testkit.CheckExactlyOnce(t, "socket", tab.IDs(), stored)
	testkit.CheckExactlyOnce(t, "hub subscriber", hub.IDs(), stored)

	api.Do(t, testkit.Request{Method: "DELETE", Path: "/api/sessions/current", Bearer: secret}).Want(t, http.StatusNoContent)
	if code := websocket.CloseStatus(tab.End(t)); code != wsserver.CloseUnauthorized {
		t.Fatalf("socket closed with %d, want %d", code, wsserver.CloseUnauthorized)
	}
}

// TestPublisherClient: the kit's publisher is the project's client, with
// the kit's key, and a new external user gets a session that opens a
// socket.
func TestPublisherClient(t *testing.T) {
	s := fullStack(t)
	pub := testkit.Publisher(t, s.HTTPURL, testkit.APIKey)
	u, secret := testkit.NewExternalUser(t, pub, "user-42")
	tab := testkit.Connect(t, s.WSURL, testkit.SecretAuth(secret, 0), nil)
	s.Notify(t, u.ID, "hello")
	if f := tab.NextNotification(t); f.Notification.Title != "hello" {
		t.Fatalf("got %s", f.Raw)
	}
	if r := s.API(t).Publish(t.Context(), "not-the-key-0123456789abcdef0123", "user-42", "x"); r.Status != http.StatusUnauthorized || r.Err != nil {
		t.Fatalf("publish with a wrong key: %v, want 401 with the error shape", r)
	}
}
