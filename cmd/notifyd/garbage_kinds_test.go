package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/wsserver"
)

// garbageKind is one way of misbehaving; run reports what went wrong from
// the client's side (a refusal in the wrong shape, a server that never
// hangs up).
type garbageKind struct {
	name string
	run  func(rng *rand.Rand, serverClose time.Duration) error
}

func garbageKinds(addr, wsURL string) []garbageKind {
	return []garbageKind{
		{"random bytes", func(rng *rand.Rand, d time.Duration) error {
			return raw(addr, d, func(c net.Conn, _ *bufio.Reader) error {
				_, _ = c.Write(randomBytes(rng, 1+rng.IntN(512)))
				return nil
			})
		}},
		{"nothing at all", func(rng *rand.Rand, d time.Duration) error {
			return raw(addr, d, func(net.Conn, *bufio.Reader) error { return nil })
		}},
		{"HTTP garbage", func(rng *rand.Rand, d time.Duration) error {
			req := httpGarbage(rng, addr)
			return raw(addr, d, func(c net.Conn, br *bufio.Reader) error {
				if _, err := io.WriteString(c, req); err != nil {
					return nil // refused before all of it was sent: fine
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					return nil // hung up without an answer: fine
				}
				resp.Body.Close()
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					return fmt.Errorf("%q: status %d, want 4xx", firstLine(req), resp.StatusCode)
				}
				// Answered: the client leaves (an answered request on a
				// kept-alive connection may wait http.idle_timeout, 60 s,
				// for the next one, as HTTP allows).
				return errAnswered
			})
		}},
		{"upgrade then random bytes", func(rng *rand.Rand, d time.Duration) error {
			return raw(addr, d, func(c net.Conn, br *bufio.Reader) error {
				if err := rawUpgrade(c, br, addr); err != nil {
					return err
				}
				_, _ = c.Write(randomBytes(rng, 1+rng.IntN(512)))
				return nil
			})
		}},
		{"upgrade then binary message", func(rng *rand.Rand, d time.Duration) error {
			return wsGarbage(wsURL, d, wsserver.CloseBadMessage, func(ctx context.Context, c *websocket.Conn) error {
				return c.Write(ctx, websocket.MessageBinary, randomBytes(rng, rng.IntN(256)))
			})
		}},
		{"upgrade then text junk", func(rng *rand.Rand, d time.Duration) error {
			// Anything not starting with '{' is a bare secret: a wrong one.
			return wsGarbage(wsURL, d, wsserver.CloseUnauthorized, func(ctx context.Context, c *websocket.Conn) error {
				junk := append([]byte{'x'}, randomBytes(rng, rng.IntN(256))...)
				return c.Write(ctx, websocket.MessageText, junk)
			})
		}},
		{"upgrade then broken JSON", func(rng *rand.Rand, d time.Duration) error {
			return wsGarbage(wsURL, d, wsserver.CloseBadMessage, func(ctx context.Context, c *websocket.Conn) error {
				return c.Write(ctx, websocket.MessageText, append([]byte(`{"type":"auth","secret":`), randomBytes(rng, rng.IntN(64))...))
			})
		}},
		{"upgrade then too big", func(rng *rand.Rand, d time.Duration) error {
			return wsGarbage(wsURL, d, wsserver.CloseTooBig, func(ctx context.Context, c *websocket.Conn) error {
				return c.Write(ctx, websocket.MessageText, randomBytes(rng, 4097+rng.IntN(4096)))
			})
		}},
		{"upgrade then nothing", func(rng *rand.Rand, d time.Duration) error {
			return wsGarbage(wsURL, d, wsserver.CloseTimeout, func(context.Context, *websocket.Conn) error { return nil })
		}},
	}
}

// errAnswered tells raw that the exchange is over and the client leaves.
var errAnswered = errors.New("answered")

// raw opens a TCP connection, lets send misbehave on it, and then waits
// until the server hangs up (EOF or reset), reading whatever it sends.
func raw(addr string, serverClose time.Duration, send func(net.Conn, *bufio.Reader) error) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(serverClose))
	br := bufio.NewReader(c)
	if err := send(c, br); err != nil {
		if errors.Is(err, errAnswered) {
			return nil
		}
		return err
	}
	_, err = io.Copy(io.Discard, br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("the server kept the connection open for %v", serverClose)
	}
	return nil // EOF or reset: the server hung up
}

// rawUpgrade performs a valid websocket handshake by hand.
func rawUpgrade(c net.Conn, br *bufio.Reader, addr string) error {
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("upgrade: status %d", resp.StatusCode)
	}
	return nil
}

// wsGarbage opens a real websocket, lets send misbehave, and expects the
// server to close it with want, or with 4408 when the short auth timeout
// passed before the server read the message: with hundreds of handshakes
// at once on a loaded machine, 300 ms can pass between the upgrade and the
// first message, and 4408 is then the documented answer.
func wsGarbage(wsURL string, serverClose time.Duration, want int, send func(context.Context, *websocket.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), serverClose)
	defer cancel()
	s, _, err := testkit.DialRaw(ctx, wsURL, nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer s.CloseNow()
	c := s.Conn()
	if err := send(ctx, c); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	_, _, err = c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusCode(want) && got != wsserver.CloseTimeout {
		return fmt.Errorf("closed with %d (%v), want %d", got, err, want)
	}
	return nil
}

// httpGarbage returns one of several malformed or unwelcome requests.
func httpGarbage(rng *rand.Rand, host string) string {
	upgrade := "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	key := "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	reqs := []string{
		"GET /ws HTTP/1.1\r\nHost: " + host + "\r\n\r\n", // no upgrade: 426
		"GET /nope HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
		"HELLO WORLD\r\n\r\n",
		"GET /ws HTTP/1.1\r\nHost: " + host + "\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\n\r\n",                                      // no key
		"GET /ws HTTP/1.1\r\nHost: " + host + "\r\n" + upgrade + key + "Sec-WebSocket-Version: 99\r\n\r\n",                                // bad version
		"POST /ws HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 5\r\n\r\nhello",                                                       // wrong method
		"GET /ws HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: -1\r\n\r\n",                                                            // bad length
		"GET /ws HTTP/1.1\r\nHost: " + host + "\r\nOrigin: http://evil.example\r\n" + upgrade + key + "Sec-WebSocket-Version: 13\r\n\r\n", // foreign origin: 403
		"GET /ws HTTP/1.1\r\nHost: " + host + "\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n",                                     // headers too large
		"GET /ws?" + url.QueryEscape(string(randomBytes(rng, 64))) + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
		"GET /ws HTTP/1.1\r\n" + string(randomBytes(rng, 64)) + "\r\n\r\n",
	}
	return reqs[rng.IntN(len(reqs))]
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line[:min(len(line), 80)]
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}
