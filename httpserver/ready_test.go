package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestReadyzAsksBrokerReady(t *testing.T) {
	t.Parallel()
	// In cluster mode New's ready is the listener's lag check: /readyz
	// fails while it fails, even though the database answers.
	var check atomic.Value // error or nil, wrapped
	type result struct{ err error }
	check.Store(result{})
	ready := func(ctx context.Context) error { return check.Load().(result).err }
	s := New(testConfig(), storetest.Open(t), nil, nil, nil, ready, slog.New(slog.DiscardHandler), nil)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	cases := []struct {
		name     string
		err      error
		status   int
		wantCode string
	}{
		{"ready", nil, http.StatusOK, ""},
		{"listener lagging", notify.Errorf(notify.EUNAVAILABLE, "cluster listener disconnected for 6s"), http.StatusServiceUnavailable, "unavailable"},
		{"uncoded failure", errors.New("boom"), http.StatusServiceUnavailable, "unavailable"},
		{"ready again", nil, http.StatusOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check.Store(result{c.err})
			res, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			checkSpec(t, s, res.Request, resp{Status: res.StatusCode, Header: res.Header, Body: b})
			var body struct {
				Status string `json:"status"`
				Error  struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != c.status || body.Error.Code != c.wantCode {
				t.Fatalf("status %d code %q, want %d %q", res.StatusCode, body.Error.Code, c.status, c.wantCode)
			}
		})
	}
}
