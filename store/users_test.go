package store_test

import (
	"context"
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
	results := race(8, func(i int) (notify.User, error) {
		name := "carol"
		if i%2 == 1 {
			name = "CAROL"
		}
		return st.CreateUser(context.Background(), name, "", t0)
	})
	ok := 0
	for _, r := range results {
		if r.err == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d signups succeeded, want 1", ok)
	}
	for _, r := range results {
		if r.err != nil {
			wantCode(t, r.err, notify.ECONFLICT)
		}
	}
}

// TestEnsureExternalUser: external ids are a namespace of their own,
// case-sensitive, never resolving to a self-signup account (the account
// takeover of issue 8: a self-signup "Dave" must not receive what the app
// sends to its user "dave").
func TestEnsureExternalUser(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	signup := storetest.User(t, st, "Dave")
	name := func(s string) *string { return &s }
	tests := []struct {
		name        string
		external    string
		display     *string
		wantCreated bool
		wantSame    string // external id of an earlier step that must be the same user; "" for a new one
		wantName    string
	}{
		{"new, same name as a self-signup account", "dave", nil, true, "", ""},
		{"again", "dave", nil, false, "dave", ""},
		{"other case is another user", "Dave", name("Dave B."), true, "", "Dave B."},
		{"name updated", "dave", name("Dave A."), false, "dave", "Dave A."},
		{"absent name kept", "dave", nil, false, "dave", "Dave A."},
		{"empty name clears", "dave", name(""), false, "dave", ""},
	}
	ids := map[string]int64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, created, err := st.EnsureExternalUser(ctx, tt.external, tt.display, t0)
			if err != nil {
				t.Fatal(err)
			}
			if created != tt.wantCreated || u.ExternalID != tt.external || u.Name != tt.wantName || u.Username != "" || u.PasswordHash != "" {
				t.Fatalf("ensure %q = %+v, created %v", tt.external, u, created)
			}
			if u.ID == signup.ID {
				t.Fatal("an external id resolved to the self-signup account")
			}
			if tt.wantSame != "" && ids[tt.wantSame] != u.ID {
				t.Fatalf("id %d, want %d", u.ID, ids[tt.wantSame])
			}
			if tt.wantCreated {
				for ext, id := range ids {
					if id == u.ID {
						t.Fatalf("new user has the id of %q", ext)
					}
				}
				ids[tt.external] = u.ID
			}
		})
	}
	t.Run("lookups stay in their namespace", func(t *testing.T) {
		if u, err := st.UserByName(ctx, "dave"); err != nil || u.ID != signup.ID {
			t.Fatalf("UserByName(dave) = %+v, %v; want the self-signup account", u, err)
		}
		if u, err := st.UserByExternalID(ctx, "dave"); err != nil || u.ID != ids["dave"] {
			t.Fatalf("UserByExternalID(dave) = %+v, %v", u, err)
		}
		if _, err := st.UserByExternalID(ctx, "DAVE"); notify.ErrorCode(err) != notify.ENOTFOUND {
			t.Fatalf("UserByExternalID(DAVE): %v, want not found", err)
		}
	})
}

func TestEnsureExternalUserConcurrent(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	type ensured struct {
		u       notify.User
		created bool
	}
	results := race(8, func(int) (ensured, error) {
		u, c, err := st.EnsureExternalUser(context.Background(), "frank", nil, t0)
		return ensured{u, c}, err
	})
	created, userIDs := 0, map[int64]bool{}
	for _, r := range results {
		if r.err != nil {
			t.Errorf("ensure: %v", r.err)
			continue
		}
		if r.v.created {
			created++
		}
		userIDs[r.v.u.ID] = true
	}
	if created != 1 || len(userIDs) != 1 {
		t.Fatalf("created %d times, %d distinct ids; want 1 and 1", created, len(userIDs))
	}
}

func TestUserLookups(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	grace := storetest.User(t, st, "Grace")
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
				wantFound(t, u, err, tt.want, grace)
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
				wantFound(t, u, err, tt.want, grace)
			})
		}
	})
}
