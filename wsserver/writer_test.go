package wsserver

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/notify"
)

// connGoroutines counts the goroutines running a method of a connection,
// and how many of those are readers.
func connGoroutines() (all, readers int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if !strings.Contains(g, "wsserver.(*conn).") {
			continue
		}
		all++
		if strings.Contains(g, "wsserver.(*conn).read(") {
			readers++
		}
	}
	return all, readers
}

func TestIdleSocketKeepsOnlyItsReader(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice")
	const sockets = 4
	clients := make([]*testkit.Socket, sockets)
	for i := range clients {
		clients[i] = e.connect(t, testkit.SecretAuth(secret, -1))
	}
	// An idle socket has no writer: it ends once the hello is out.
	testkit.Eventually(t, "one goroutine per idle socket", func() bool {
		all, readers := connGoroutines()
		return all == sockets && readers == sockets
	})
	// A notification starts a writer per socket, and each ends again.
	n := e.Notify(t, u.ID, "hi")
	for _, c := range clients {
		if f := c.NextNotification(t); f.Notification.ID != n.ID {
			t.Fatalf("got notification %d, want %d", f.Notification.ID, n.ID)
		}
	}
	testkit.Eventually(t, "the writers to end", func() bool {
		all, readers := connGoroutines()
		return all == sockets && readers == sockets
	})
}

func TestBurstsAndLargeFramesArriveInOrder(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice")
	c := e.connect(t, testkit.SecretAuth(secret, -1))
	// Larger than the write buffer, and than net/http's 4 KiB.
	long := strings.Repeat("é", notify.MaxContentLen)
	for round := range 3 {
		// More frames than an empty queue keeps room for, published
		// without waiting, then an idle gap: the writer ends between
		// rounds and a new one takes over.
		const burst = 40
		want := make([]int64, burst)
		for i := range want {
			n, err := e.Service.Notify(context.Background(), u.ID,
				notify.NewNotification{Title: fmt.Sprintf("r%d n%d", round, i), Content: long})
			if err != nil {
				t.Fatalf("notify: %v", err)
			}
			want[i] = n.ID
		}
		for i, id := range want {
			f := c.NextNotification(t)
			if f.Notification.ID != id || f.Notification.Content != long {
				t.Fatalf("round %d frame %d: got id %d (content %d bytes), want id %d with the full content",
					round, i, f.Notification.ID, len(f.Notification.Content), id)
			}
		}
	}
}

// TestAuthSentWithTheUpgradeRequest sends the auth message in the same
// write as the upgrade request, before the 101: the bytes net/http has
// already buffered must reach the websocket reader.
func TestAuthSentWithTheUpgradeRequest(t *testing.T) {
	e, u, secret := newEnvAs(t, "alice")
	addr := strings.TrimPrefix(e.httpURL, "http://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()

	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	msg := append([]byte(req), clientTextFrame([]byte(testkit.SecretAuth(secret, -1)))...)
	if _, err := nc.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}

	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade status = %d, want 101", resp.StatusCode)
	}
	var hello testkit.Frame
	if err := json.Unmarshal(serverFrame(t, br), &hello); err != nil {
		t.Fatalf("hello: %v", err)
	}
	if hello.Type != "hello" || hello.User == nil || hello.User.ID != u.ID {
		t.Fatalf("first frame = %+v, want the hello of user %d", hello, u.ID)
	}
}

// clientTextFrame is a masked text frame, as a client must send it.
func clientTextFrame(p []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{0x81} // FIN, text
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(len(p)))
	}
	f = append(f, mask[:]...)
	for i, b := range p {
		f = append(f, b^mask[i%4])
	}
	return f
}

// serverFrame reads one unmasked, unfragmented server frame's payload.
func serverFrame(tb testing.TB, r io.Reader) []byte {
	tb.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		tb.Fatalf("read frame header: %v", err)
	}
	if h[0] != 0x81 {
		tb.Fatalf("frame header %#x, want a final text frame", h[0])
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			tb.Fatalf("read frame length: %v", err)
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			tb.Fatalf("read frame length: %v", err)
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		tb.Fatalf("read frame payload: %v", err)
	}
	return p
}
