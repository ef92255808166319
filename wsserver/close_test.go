package wsserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

func TestMaxConnectionsPerUser(t *testing.T) {
	e, alice, secret := newEnvAs(t, "alice", func(ec *envConfig) { ec.hub.MaxPerUser = 2 })
	_, _, bobSecret := e.Session(t, "bob")
	tab1 := e.connect(t, secret)
	e.connect(t, secret)

	extra := e.open(t, nil)
	extra.Send(t, secret)
	extra.ExpectClose(t, CloseTooMany) // and no hello before it

	// Another user is not affected.
	e.connect(t, bobSecret)

	// Closing a tab frees its place.
	if err := tab1.Conn().Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "tab unregistered", func() bool { return e.Hub.UserCount(alice.ID) == 1 })
	e.connect(t, secret)
}

func TestLogoutClosesTheSessionsSockets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, s1, secret1 := e.Session(t, "alice")
	secret2, _, err := e.Accounts.NewSession(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	tab1 := e.connect(t, secret1)
	tab2 := e.connect(t, testkit.SecretAuth(secret1, -1))
	other := e.connect(t, secret2)

	if err := e.Accounts.Logout(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if n := e.Service.CloseSession(ctx, s1.ID); n != 2 {
		t.Errorf("CloseSession closed %d sockets, want 2", n)
	}
	tab1.ExpectClose(t, CloseUnauthorized)
	tab2.ExpectClose(t, CloseUnauthorized)

	// The other session's socket stays open.
	n := e.Notify(t, alice.ID, "still here")
	if f := other.NextNotification(t); f.Notification.ID != n.ID {
		t.Fatalf("got %d, want %d", f.Notification.ID, n.ID)
	}
}

// TestStalledSocket floods a client that never reads: its queue of 4 fills
// once its TCP buffers are full, and it is closed (4008, or dropped when the
// close frame cannot be written either), while another user's socket gets
// everything sent to it.
func TestStalledSocket(t *testing.T) {
	e := newEnv(t, func(ec *envConfig) {
		ec.hub.SendQueue = 4
		ec.ws.WriteTimeout = config.Duration(time.Second)
	})
	ctx := context.Background()
	alice, _, aliceSecret := e.Session(t, "alice")
	bob, _, bobSecret := e.Session(t, "bob")
	stalled := e.connect(t, aliceSecret)
	bobTab := e.connect(t, bobSecret)

	big := notify.Event{Type: "flood", Data: json.RawMessage(`"` + strings.Repeat("x", 16000) + `"`)}
	flooded := make(chan error, 1)
	go func() {
		// Until the server has given up on the socket; a publish never
		// blocks, however full the socket is.
		deadline := time.Now().Add(testkit.Timeout)
		for e.Hub.UserCount(alice.ID) > 0 {
			if time.Now().After(deadline) {
				flooded <- fmt.Errorf("stalled socket still open")
				return
			}
			if _, err := e.Service.SendEvent(ctx, alice.ID, big); err != nil {
				flooded <- err
				return
			}
		}
		flooded <- nil
	}()

	// In lockstep, so that Bob's own queue of 4 never fills however the
	// goroutines are scheduled.
	for i := range 20 {
		n := e.Notify(t, bob.ID, fmt.Sprintf("n%d", i))
		if f := bobTab.NextNotification(t); f.Notification.ID != n.ID {
			t.Fatalf("bob got %d, want %d", f.Notification.ID, n.ID)
		}
	}
	if err := <-flooded; err != nil {
		t.Fatal(err)
	}

	// Alice's client finally reads: what was buffered, then 4008 or the
	// end of a dropped connection, never another close code.
	for {
		f, err := stalled.Read(t)
		if err == nil {
			if f.Type != "event" {
				t.Fatalf("stalled socket got %+v", f)
			}
			continue
		}
		if code := websocket.CloseStatus(err); code != CloseQueueFull && code != -1 {
			t.Fatalf("stalled socket closed with %d, want 4008 or a dropped connection", code)
		}
		break
	}
}

func TestHubShutdown(t *testing.T) {
	e, _, aliceSecret := newEnvAs(t, "alice")
	_, _, bobSecret := e.Session(t, "bob")
	clients := []*testkit.Socket{e.connect(t, aliceSecret), e.connect(t, aliceSecret), e.connect(t, bobSecret)}

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		shut <- e.Hub.Shutdown(ctx, notify.CloseGoingAway, "server shutting down")
	}()
	for _, c := range clients {
		c.ExpectClose(t, CloseGoingAway)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// A socket that authenticates after the hub shut down is told the
	// same, without a hello.
	late := e.open(t, nil)
	late.Send(t, aliceSecret)
	late.ExpectClose(t, CloseGoingAway)
}

func TestServerClose(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice")
	before := goleak.IgnoreCurrent()

	authed := e.connect(t, secret)
	waiting := e.open(t, nil) // upgraded, not authenticated yet
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		e.srv.Close()
	}()
	authed.ExpectClose(t, CloseGoingAway)
	waiting.ExpectClose(t, CloseGoingAway)
	<-closed
	if n := e.Hub.UserCount(u.ID); n != 0 {
		t.Errorf("hub has %d sockets after Close, want 0", n)
	}

	_, resp, err := e.dial(t, nil)
	if err == nil {
		t.Fatal("upgrade accepted after Close")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("response = %v (%v), want 503", resp, err)
	}
	var body errorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code != notify.EUNAVAILABLE {
		t.Errorf("body = %+v (%v), want code %q", body, err, notify.EUNAVAILABLE)
	}
	e.srv.Close() // twice is fine

	// Every connection goroutine has ended.
	e.Client.CloseIdleConnections()
	goleak.VerifyNone(t, before)
}
