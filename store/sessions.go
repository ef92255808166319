package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/notify"
)

// sessionRow is a row of the sessions table. SecretHash is the SHA-256 of
// the secret; the secret itself never reaches the database.
type sessionRow struct {
	ID         int64
	UserID     int64
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

func (r sessionRow) session() notify.Session {
	return notify.Session{
		ID:         r.ID,
		UserID:     r.UserID,
		SecretHash: r.SecretHash,
		CreatedAt:  r.CreatedAt.UTC(),
		ExpiresAt:  r.ExpiresAt.UTC(),
	}
}

// CreateSession stores sess and returns it with its id. An unknown user is
// ENOTFOUND; a hash already stored is ECONFLICT.
func (s *Store) CreateSession(ctx context.Context, sess notify.Session) (notify.Session, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	r := sessionRow{
		UserID:     sess.UserID,
		SecretHash: sess.SecretHash,
		CreatedAt:  utc(sess.CreatedAt),
		ExpiresAt:  utc(sess.ExpiresAt),
	}
	if err := db.Create(&r).Error; err != nil {
		return notify.Session{}, s.translate(ctx, "create session", err)
	}
	return r.session(), nil
}

// sessionUserRow is one row of the sessions-join-users query.
type sessionUserRow struct {
	SessionID        int64
	SessionUserID    int64
	SessionHash      []byte
	SessionCreatedAt time.Time
	SessionExpiresAt time.Time
	UserID           int64
	UserName         string
	UserExternalID   *string
	UserDisplayName  *string
	UserPasswordHash string
	UserCreatedAt    time.Time
}

// SessionBySecretHash returns the session with that hash and its user in
// one query (ENOTFOUND). Expired sessions are returned too: Accounts
// decides about expiry with its own clock. Concurrent lookups share a
// query (coalesce.go); each starts after its call, so a session deleted
// before the call is not found.
func (s *Store) SessionBySecretHash(ctx context.Context, hash []byte) (notify.Session, notify.User, error) {
	r, found, err := s.sessions.get(ctx, string(hash))
	if err != nil {
		return notify.Session{}, notify.User{}, translate(ctx, "session by secret", err)
	}
	if !found {
		return notify.Session{}, notify.User{}, errNotFound("session by secret", "session")
	}
	sess, u := r.parts()
	return sess, u, nil
}

// parts returns the session and the user of r.
func (r sessionUserRow) parts() (notify.Session, notify.User) {
	sess := sessionRow{
		ID:         r.SessionID,
		UserID:     r.SessionUserID,
		SecretHash: r.SessionHash,
		CreatedAt:  r.SessionCreatedAt,
		ExpiresAt:  r.SessionExpiresAt,
	}.session()
	u := userRow{
		ID: r.UserID, Username: r.UserName, ExternalID: r.UserExternalID, Name: r.UserDisplayName,
		PasswordHash: r.UserPasswordHash, CreatedAt: r.UserCreatedAt,
	}.user()
	return sess, u
}

// sessionColumnsAsSQL are the columns of a session and its user named as
// the fields of sessionUserRow, for gorm's Find.
const sessionColumnsAsSQL = `s.id AS session_id, s.user_id AS session_user_id, s.secret_hash AS session_hash,
			s.created_at AS session_created_at, s.expires_at AS session_expires_at,
			u.id AS user_id, u.username AS user_name, u.external_id AS user_external_id,
			u.name AS user_display_name, u.password_hash AS user_password_hash,
			u.created_at AS user_created_at`

// sessionsBySecretHash reads the sessions with those hashes (strings of
// the hash bytes) and their users in one query, keyed by hash.
func (s *Store) sessionsBySecretHash(ctx context.Context, hashes []string) (map[string]sessionUserRow, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	// Find, not Scan: gorm's Scan renders every query with its arguments
	// for a trace recorder (a regexp over the SQL) even when nothing is
	// logged, on every authenticated request and connect.
	var rows []sessionUserRow
	err := db.Raw(`SELECT `+sessionColumnsAsSQL+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.secret_hash IN ?`, hashBytes(hashes)).Find(&rows).Error
	if err != nil {
		return nil, s.translate(ctx, "session by secret", err)
	}
	out := make(map[string]sessionUserRow, len(rows))
	for _, r := range rows {
		out[string(r.SessionHash)] = r
	}
	return out, nil
}

// DeleteSession deletes a session; deleting a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, id int64) error {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	if err := db.Where("id = ?", id).Delete(&sessionRow{}).Error; err != nil {
		return s.translate(ctx, "delete session", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions that expired at or before now
// and returns how many it deleted.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	res := db.Where("expires_at <= ?", utc(now)).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, s.translate(ctx, "delete expired sessions", res.Error)
	}
	return res.RowsAffected, nil
}

// DeleteUserSessions deletes every session of userID ("log out
// everywhere") and returns their ids, so their sockets can be closed.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) ([]int64, error) {
	return s.deleteSessionsBeyond(ctx, "delete user sessions", userID, 0)
}

// TrimSessions keeps the keep newest sessions of userID, deletes the
// older ones and returns their ids (none when there are at most keep).
func (s *Store) TrimSessions(ctx context.Context, userID int64, keep int) ([]int64, error) {
	return s.deleteSessionsBeyond(ctx, "trim sessions", userID, keep)
}

// deleteSessionsBeyond deletes the sessions of userID but the keep newest
// (highest ids), in one transaction, and returns the deleted ids.
func (s *Store) deleteSessionsBeyond(ctx context.Context, op string, userID int64, keep int) ([]int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var ended []int64
	err := db.Transaction(func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Model(&sessionRow{}).Where("user_id = ?", userID).Order("id DESC").Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) <= keep {
			return nil
		}
		ended = ids[keep:]
		return tx.Where("id IN ?", ended).Delete(&sessionRow{}).Error
	})
	if err != nil {
		return nil, s.translate(ctx, op, err)
	}
	return ended, nil
}

// hashBytes turns hashes kept as strings (map keys) back into the byte
// strings the secret_hash column holds, for gorm's IN.
func hashBytes(hashes []string) [][]byte {
	out := make([][]byte, len(hashes))
	for i, h := range hashes {
		out[i] = []byte(h)
	}
	return out
}
