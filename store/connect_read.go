package store

import (
	"context"

	"github.com/notifyd/notifyd/notify"
)

// connectRow is a session, its user and the user's position, read in one
// statement.
type connectRow struct {
	// Session is a named field: gorm does not fill an embedded struct of
	// an unexported type.
	Session             sessionUserRow `gorm:"embedded"`
	Seq, Unread, Newest int64
}

// SessionAndPosition returns the session with that hash, its user and
// the user's position (notify.Position), all read in one statement: what
// a socket without after_id needs, in one round trip (issue 11). It is
// ENOTFOUND when there is no such session; expired sessions are returned
// too, as by SessionBySecretHash. Concurrent reads share a statement
// (coalesce.go); each starts after its call.
func (s *Store) SessionAndPosition(ctx context.Context, hash []byte) (notify.Session, notify.User, notify.Position, error) {
	r, found, err := s.connects.get(ctx, string(hash))
	if err != nil {
		return notify.Session{}, notify.User{}, notify.Position{}, translate(ctx, "session and position", err)
	}
	if !found {
		return notify.Session{}, notify.User{}, notify.Position{}, errNotFound("session and position", "session")
	}
	sess, u := r.Session.parts()
	return sess, u, notify.Position{Newest: r.Newest, Seq: r.Seq, Unread: r.Unread}, nil
}

// connectsBySecretHash reads the sessions with those hashes, their users
// and positions in one statement, keyed by hash (SQLite; Postgres:
// connectsBySecretHashPG).
func (s *Store) connectsBySecretHash(ctx context.Context, hashes []string) (map[string]connectRow, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	// Find, not Scan: see sessionsBySecretHash.
	var rows []connectRow
	err := db.Raw(`SELECT `+sessionColumnsAsSQL+`, u.seq AS seq, u.unread_count AS unread,
			COALESCE((SELECT MAX(n.id) FROM notifications n WHERE n.user_id = u.id), 0) AS newest
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.secret_hash IN ?`, hashBytes(hashes)).Find(&rows).Error
	if err != nil {
		return nil, s.translate(ctx, "session and position", err)
	}
	out := make(map[string]connectRow, len(rows))
	for _, r := range rows {
		out[string(r.Session.SessionHash)] = r
	}
	return out, nil
}
