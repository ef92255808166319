package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/client"
)

// TestClientSendsWhatIsSet: the client's NewNotification is notify's, so
// its JSON leaves out what the caller did not set (the spec has no style
// "" and no url ""), keeps all that was set, and the server stores it as
// sent.
func TestClientSendsWhatIsSet(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	var mu sync.Mutex
	var bodies []string
	s.setFault(func(w http.ResponseWriter, r *http.Request, api http.Handler) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		api.ServeHTTP(w, r)
	})
	ctx := context.Background()
	if _, err := c.Notify(ctx, "frank", client.NewNotification{Title: "bare"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NotifyMany(ctx, []string{"frank"}, client.NewNotification{Title: "many"}); err != nil {
		t.Fatal(err)
	}
	full := client.NewNotification{Title: "full", Content: "c", Style: client.StyleError, URL: "/x", Data: []byte(`{"a":1}`)}
	n, err := c.Notify(ctx, "frank", full)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"title":"bare"}`,
		`{"user_ids":["frank"],"title":"many"}`,
		`{"title":"full","content":"c","style":"error","url":"/x","data":{"a":1}}`,
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(bodies, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bodies sent:\n%s\nwant:\n%s", strings.Join(bodies, "\n"), strings.Join(want, "\n"))
	}
	if n.Content != "c" || n.Style != client.StyleError || n.URL == nil || *n.URL != "/x" || string(n.Data) != `{"a":1}` {
		t.Fatalf("answer %+v", n)
	}
	if got := s.stored(t, "frank"); len(got) != 3 || got[1].Style != client.StyleInfo || got[1].URL != nil || got[1].Data != nil {
		t.Fatalf("stored %+v", got)
	}
}
