package migrations_test

import (
	"context"
	"testing"
)

// TestUnreadCountBackfill migrates a database holding notifications from
// version 3 to 4 and checks that each user's unread_count starts at its
// number of unread rows, then that Down removes the column again.
func TestUnreadCountBackfill(t *testing.T) {
	t.Parallel()
	db, _, p := migratedTo(t, 3)
	ctx := context.Background()

	const now = "'2025-01-01 00:00:00+00:00'"
	execAll(t, db,
		"INSERT INTO users (username, created_at) VALUES ('alice', "+now+"), ('bob', "+now+"), ('carol', "+now+")",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'u', "+now+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'u', "+now+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'u', "+now+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'r', "+now+" FROM users WHERE username = 'alice'",
		"INSERT INTO notifications (user_id, title, created_at) SELECT id, 'r', "+now+" FROM users WHERE username = 'bob'",
		"UPDATE notifications SET read = NOT read WHERE title = 'r'")
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		user string
		want int64
	}{{"alice", 3}, {"bob", 0}, {"carol", 0}} {
		t.Run(tc.user, func(t *testing.T) {
			var got int64
			err := db.QueryRowContext(ctx, "SELECT unread_count FROM users WHERE username = '"+tc.user+"'").Scan(&got)
			if err != nil || got != tc.want {
				t.Fatalf("unread_count = %d, %v; want %d", got, err, tc.want)
			}
		})
	}

	if _, err := p.DownTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "SELECT unread_count FROM users"); err == nil {
		t.Fatal("unread_count still exists after Down")
	}
}
