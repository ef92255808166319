package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	alice, err := st.CreateUser(ctx, "Alice", "hash-a", t0)
	if err != nil {
		t.Fatalf("create Alice: %v", err)
	}
	if alice.ID <= 0 || alice.Username != "Alice" || alice.PasswordHash != "hash-a" {
		t.Fatalf("created %+v", alice)
	}
	if want := t0.Truncate(time.Microsecond); !alice.CreatedAt.Equal(want) || alice.CreatedAt.Location() != time.UTC {
		t.Fatalf("created_at = %v, want %v in UTC", alice.CreatedAt, want)
	}

	tests := []struct {
		name     string
		username string
		want     string
	}{
		{"same name", "Alice", notify.ECONFLICT},
		{"lower case", "alice", notify.ECONFLICT},
		{"upper case", "ALICE", notify.ECONFLICT},
		{"other name", "bob", ""},
		{"name with dots", "al.ice", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := st.CreateUser(ctx, tt.username, "", t0)
			wantCode(t, err, tt.want)
			if err == nil && (u.ID == alice.ID || u.Username != tt.username) {
				t.Fatalf("created %+v", u)
			}
		})
	}
}

func TestCreateUserConcurrentSameName(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ok   int
		errs []error
	)
	for i := range n {
		name := "carol"
		if i%2 == 1 {
			name = "CAROL"
		}
		wg.Go(func() {
			_, err := st.CreateUser(context.Background(), name, "", t0)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d signups succeeded, want 1", ok)
	}
	for _, err := range errs {
		wantCode(t, err, notify.ECONFLICT)
	}
}

func TestEnsureUser(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	existing, err := st.CreateUser(ctx, "Dave", "hash-d", t0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		username    string
		wantCreated bool
		wantID      int64 // 0: a new id
		wantName    string
	}{
		{"existing exact", "Dave", false, existing.ID, "Dave"},
		{"existing other case", "dAVE", false, existing.ID, "Dave"},
		{"new", "erin", true, 0, "erin"},
		{"new again", "ERIN", false, -1, "erin"},
	}
	var erinID int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, created, err := st.EnsureUser(ctx, tt.username, t0)
			if err != nil {
				t.Fatalf("ensure %q: %v", tt.username, err)
			}
			if created != tt.wantCreated || u.Username != tt.wantName {
				t.Fatalf("ensure %q = %+v, created %v; want name %q, created %v", tt.username, u, created, tt.wantName, tt.wantCreated)
			}
			switch tt.wantID {
			case 0:
				erinID = u.ID
				if u.ID <= 0 || u.ID == existing.ID || u.PasswordHash != "" {
					t.Fatalf("new user %+v", u)
				}
			case -1:
				if u.ID != erinID {
					t.Fatalf("id = %d, want erin's %d", u.ID, erinID)
				}
			default:
				if u.ID != tt.wantID || u.PasswordHash != "hash-d" {
					t.Fatalf("got %+v, want the existing user", u)
				}
			}
		})
	}
}

func TestEnsureUserConcurrent(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		userIDs = map[int64]bool{}
	)
	for range n {
		wg.Go(func() {
			u, c, err := st.EnsureUser(context.Background(), "frank", t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("ensure: %v", err)
				return
			}
			if c {
				created++
			}
			userIDs[u.ID] = true
		})
	}
	wg.Wait()
	if created != 1 || len(userIDs) != 1 {
		t.Fatalf("created %d times, %d distinct ids; want 1 and 1", created, len(userIDs))
	}
}

func TestUserLookups(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	grace, err := st.CreateUser(ctx, "Grace", "hash-g", t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("by name", func(t *testing.T) {
		tests := []struct {
			name string
			want string
		}{
			{"Grace", ""},
			{"grace", ""},
			{"GRACE", ""},
			{"grac", notify.ENOTFOUND},
			{"", notify.ENOTFOUND},
			{"grace%", notify.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u, err := st.UserByName(ctx, tt.name)
				wantCode(t, err, tt.want)
				if err == nil && !sameUser(u, grace) {
					t.Fatalf("got %+v, want %+v", u, grace)
				}
			})
		}
	})
	t.Run("by id", func(t *testing.T) {
		tests := []struct {
			name string
			id   int64
			want string
		}{
			{"existing", grace.ID, ""},
			{"missing", grace.ID + 1000, notify.ENOTFOUND},
			{"zero", 0, notify.ENOTFOUND},
			{"negative", -1, notify.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u, err := st.UserByID(ctx, tt.id)
				wantCode(t, err, tt.want)
				if err == nil && !sameUser(u, grace) {
					t.Fatalf("got %+v, want %+v", u, grace)
				}
			})
		}
	})
}
