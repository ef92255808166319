package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// sessionSockets returns a Receiver tuned by cfg over a fresh store with
// alice, two sessions of hers and a socket on each, the second session
// deleted from the database without its revocation reaching the receiver
// (a lost message).
func sessionSockets(t *testing.T, cfg notify.ReceiverConfig) (rec *notify.Receiver, live, revoked *notify.Subscriber) {
	t.Helper()
	noLeaks(t)
	st := storetest.Open(t)
	hub := notify.NewHub(notifytest.HubConfig())
	ctx := context.Background()
	alice := storetest.User(t, st, "alice").ID
	var subs [2]*notify.Subscriber
	for i, secret := range []string{"live-session-secret", "revoked-session-secret"} {
		sess, err := st.CreateSession(ctx, notify.Session{UserID: alice, SecretHash: notify.HashSecret(secret),
			CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = register(t, hub, alice, sess.ID)
		if i == 1 {
			if err := st.DeleteSession(ctx, sess.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return notify.NewReceiver(st, hub, cfg, nil, nil), subs[0], subs[1]
}

// runReceiver runs rec until the test ends.
func runReceiver(t *testing.T, rec *notify.Receiver) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// closedFor fails t unless s was closed as a revoked session.
func closedFor(t *testing.T, s *notify.Subscriber) {
	t.Helper()
	if why, text := s.CloseReason(); why != notify.CloseUnauthorized || text != "session revoked" {
		t.Fatalf("close reason %v %q, want %v \"session revoked\"", why, text, notify.CloseUnauthorized)
	}
}

// TestSessionAuditClosesLostRevocation: the sessions are checked by their
// own audit (cluster.session_audit_interval), not by the seq audit of
// every second: the seq audit leaves the socket of a deleted session
// open, the session audit closes it (4401) and only it.
func TestSessionAuditClosesLostRevocation(t *testing.T) {
	rec, live, revoked := sessionSockets(t, notify.ReceiverConfig{GapWait: time.Hour, Audit: time.Hour, SessionAudit: time.Hour})
	ctx := context.Background()
	if err := rec.AuditNow(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-revoked.Done():
		t.Fatal("the seq audit closed a socket: sessions are the session audit's")
	default:
	}
	if err := rec.AuditSessionsNow(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-revoked.Done():
	default:
		t.Fatal("the socket of the deleted session is still open after the session audit")
	}
	closedFor(t, revoked)
	select {
	case <-live.Done():
		t.Fatal("the socket of the live session was closed")
	default:
	}
}

// TestRunAuditsSessions: Run checks the sessions every SessionAudit, so a
// lost revocation closes its socket without any other change.
func TestRunAuditsSessions(t *testing.T) {
	rec, live, revoked := sessionSockets(t, notify.ReceiverConfig{GapWait: 20 * time.Millisecond, Audit: time.Hour, SessionAudit: 20 * time.Millisecond})
	runReceiver(t, rec)
	select {
	case <-revoked.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the socket of the deleted session is still open")
	}
	closedFor(t, revoked)
	select {
	case <-live.Done():
		t.Fatal("the socket of the live session was closed")
	default:
	}
}
