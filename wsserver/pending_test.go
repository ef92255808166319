package wsserver

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

// dialFrom opens a socket from the local address ip (any 127.0.0.0/8
// address reaches the loopback listener), without authenticating.
func (e *env) dialFrom(tb testing.TB, ip string) (*testkit.Socket, *http.Response, error) {
	tb.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	tb.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	s, resp, err := testkit.DialRaw(ctx, e.WSURL, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err == nil {
		tb.Cleanup(s.CloseNow)
	}
	return s, resp, err
}

// wantRefused checks that a dial from ip is refused at once with 429 and
// the JSON error shape.
func (e *env) wantRefused(tb testing.TB, ip string) {
	tb.Helper()
	_, resp, err := e.dialFrom(tb, ip)
	if err == nil || resp == nil {
		tb.Fatalf("socket accepted (err %v), want 429", err)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		tb.Fatalf("status = %d, want 429", resp.StatusCode)
	}
	defer resp.Body.Close()
	var body errorBody
	b, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(b, &body) != nil || body.Error.Code != notify.ERATELIMIT {
		tb.Fatalf("body = %s, want code %s", b, notify.ERATELIMIT)
	}
}

// TestUnauthenticatedCapPerAddress: sockets that never authenticate used
// to be all accepted (2,000 of them, 4,014 goroutines, until
// auth_timeout). Past ws.max_unauthenticated_per_address the upgrade is
// refused at once; a socket that authenticates frees its place.
func TestUnauthenticatedCapPerAddress(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice", func(ec *envConfig) { ec.ws.MaxUnauthPerAddress = 3 })
	var waiting []*testkit.Socket
	for range 3 {
		ws, _, err := e.dialFrom(t, "127.0.0.1")
		if err != nil {
			t.Fatalf("dial under the cap: %v", err)
		}
		waiting = append(waiting, ws)
	}
	e.wantRefused(t, "127.0.0.1")

	t.Run("another address is not affected", func(t *testing.T) {
		if _, _, err := e.dialFrom(t, "127.0.0.2"); err != nil {
			t.Fatalf("dial from another address: %v", err)
		}
	})
	t.Run("authenticating frees a place", func(t *testing.T) {
		waiting[0].Send(t, testkit.SecretAuth(secret, 0))
		if f := waiting[0].Next(t); f.Type != "hello" {
			t.Fatalf("first frame = %q, want hello", f.Type)
		}
		if _, _, err := e.dialFrom(t, "127.0.0.1"); err != nil {
			t.Fatalf("dial after one authenticated: %v", err)
		}
		e.wantRefused(t, "127.0.0.1")
	})
}

// TestUnauthenticatedCapTotal: ws.max_unauthenticated bounds them across
// all addresses; a socket closed for its auth timeout frees its place.
func TestUnauthenticatedCapTotal(t *testing.T) {
	e := newEnv(t, func(ec *envConfig) {
		ec.ws.MaxUnauth = 2
		ec.ws.AuthTimeout = config.Duration(300 * time.Millisecond)
	})
	first, _, err := e.dialFrom(t, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.dialFrom(t, "127.0.0.2"); err != nil {
		t.Fatal(err)
	}
	e.wantRefused(t, "127.0.0.3")
	first.ExpectClose(t, CloseTimeout)
	if _, _, err := e.dialFrom(t, "127.0.0.3"); err != nil {
		t.Fatalf("dial after one timed out: %v", err)
	}
}
