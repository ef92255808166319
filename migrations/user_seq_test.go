package migrations_test

import (
	"context"
	"testing"
)

// TestUserSeqMigration migrates a database with users from version 5 to 6:
// every user starts at seq 0 and the column refuses NULL; then Down
// removes it and the users are kept.
func TestUserSeqMigration(t *testing.T) {
	t.Parallel()
	db, _, p := migratedTo(t, 5)
	ctx := context.Background()
	const now = "'2025-01-01 00:00:00+00:00'"
	execAll(t, db, "INSERT INTO users (username, created_at) VALUES ('alice', "+now+"), ('bob', "+now+")")
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	var n, sum int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(seq), 0) FROM users").Scan(&n, &sum); err != nil || n != 2 || sum != 0 {
		t.Fatalf("after Up: %d users, seq sum %d, %v; want 2 users at seq 0", n, sum, err)
	}
	execAll(t, db, "UPDATE users SET seq = seq + 1 WHERE username = 'alice'")
	if _, err := db.ExecContext(ctx, "UPDATE users SET seq = NULL WHERE username = 'bob'"); err == nil {
		t.Fatal("seq accepted NULL")
	}
	if _, err := p.DownTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "SELECT seq FROM users"); err == nil {
		t.Fatal("seq still exists after Down")
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 2 {
		t.Fatalf("after Down: %d users, %v; want 2", n, err)
	}
}
