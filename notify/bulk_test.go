package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
	"github.com/notifyd/notifyd/store/storetest"
)

// TestBulkUserIDs: both bulk calls, by user id and by external id, apply
// one rule to user_ids: 1 to MaxBulkUsers ids, else EINVALID naming the
// field, before anything is stored.
func TestBulkUserIDs(t *testing.T) {
	st := storetest.Open(t)
	hub := notify.NewHub(notifytest.HubConfig())
	svc := notify.NewService(st, hub, notify.NewLocalBroker(hub), notify.BatchConfig{}, nil, nil)
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	ctx := context.Background()
	nn := notify.NewNotification{Title: "t"}
	tests := []struct {
		name string
		n    int
		code string
	}{
		{"none", 0, notify.EINVALID},
		{"one", 1, ""},
		{"the most", notify.MaxBulkUsers, ""},
		{"one too many", notify.MaxBulkUsers + 1, notify.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := make([]int64, tt.n)
			ext := make([]string, tt.n)
			for i := range tt.n {
				ids[i] = int64(i + 1)
				ext[i] = fmt.Sprintf("u%d", i)
			}
			_, err := svc.NotifyMany(ctx, ids, nn)
			checkBulkErr(t, "NotifyMany", err, tt.code)
			_, _, err = svc.NotifyManyExternal(ctx, ext, nn, nil)
			checkBulkErr(t, "NotifyManyExternal", err, tt.code)
		})
	}
}

func checkBulkErr(tb testing.TB, call string, err error, code string) {
	tb.Helper()
	if notify.ErrorCode(err) != code {
		tb.Fatalf("%s: %v, want code %q", call, err, code)
	}
	if code != "" && !strings.HasPrefix(notify.ErrorMessage(err), "user_ids: ") {
		tb.Fatalf("%s: message %q does not name user_ids", call, notify.ErrorMessage(err))
	}
}
