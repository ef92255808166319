package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/notifyd/notifyd/notify"
)

// userRow is a row of the users table. An external user has Username ""
// and an ExternalID; a self-signup account a Username and no ExternalID
// (migration 00005).
type userRow struct {
	ID           int64
	Username     string
	ExternalID   *string
	Name         *string
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) user() notify.User {
	return notify.User{
		ID: r.ID, Username: r.Username, ExternalID: deref(r.ExternalID), Name: deref(r.Name),
		PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.UTC(),
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreateUser stores a new user. It fails with ECONFLICT when the name is
// taken, compared case-insensitively; the unique index on lower(username)
// decides, so two concurrent signups for one name cannot both succeed.
func (s *Store) CreateUser(ctx context.Context, username, passwordHash string, now time.Time) (notify.User, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	r := userRow{Username: username, PasswordHash: passwordHash, CreatedAt: utc(now)}
	if err := db.Create(&r).Error; err != nil {
		return notify.User{}, s.translate(ctx, "create user", err)
	}
	return r.user(), nil
}

// EnsureExternalUser returns the external user with that id, creating it
// when there is none; created tells which happened. A non-nil name is
// stored as the display name either way ("" clears it). It is safe against
// a concurrent call for the same id: the insert does nothing on conflict
// and the existing row is read instead. It never returns a self-signup
// account: those have no external id.
func (s *Store) EnsureExternalUser(ctx context.Context, externalID string, name *string, now time.Time) (notify.User, bool, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	r := userRow{ExternalID: &externalID, Name: nonEmpty(name), CreatedAt: utc(now)}
	res := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "external_id"}}, DoNothing: true}).Create(&r)
	if res.Error != nil {
		return notify.User{}, false, s.translate(ctx, "ensure external user", res.Error)
	}
	if res.RowsAffected == 1 {
		return r.user(), true, nil
	}
	if name != nil {
		err := db.Model(&userRow{}).Where(whereExternalID, externalID).Update("name", nonEmpty(name)).Error
		if err != nil {
			return notify.User{}, false, s.translate(ctx, "ensure external user", err)
		}
	}
	u, err := s.userByExternalID(db, externalID)
	if err != nil {
		return notify.User{}, false, s.translate(ctx, "ensure external user", err)
	}
	return u, false, nil
}

// ExternalUserIDs returns the user id of each of externalIDs that exists.
func (s *Store) ExternalUserIDs(ctx context.Context, externalIDs []string) (map[string]int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	out := make(map[string]int64, len(externalIDs))
	for _, chunk := range chunks(externalIDs, maxIDsPerQuery) {
		var rows []struct {
			ID         int64
			ExternalID string
		}
		if err := db.Raw("SELECT id, external_id FROM users WHERE external_id IN ?", chunk).Scan(&rows).Error; err != nil {
			return nil, s.translate(ctx, "external user ids", err)
		}
		for _, r := range rows {
			out[r.ExternalID] = r.ID
		}
	}
	return out, nil
}

// nonEmpty maps "" to NULL: a name is either set or absent.
func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

// UserByExternalID finds an external user by the app's id, compared
// case-sensitively (ENOTFOUND).
func (s *Store) UserByExternalID(ctx context.Context, externalID string) (notify.User, error) {
	return s.findUser(ctx, "user by external id", whereExternalID, externalID)
}

func (s *Store) userByExternalID(db *gorm.DB, externalID string) (notify.User, error) {
	return takeUser(db, "user by external id", whereExternalID, externalID)
}

// whereExternalID matches an external user by the app's id.
const whereExternalID = "external_id = ?"

// findUser is takeUser on its own query, with the store's timeout and
// error translation: the body of the exported look-ups.
func (s *Store) findUser(ctx context.Context, op, where string, args ...any) (notify.User, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	u, err := takeUser(db, op, where, args...)
	if err != nil {
		return notify.User{}, s.translate(ctx, op, err)
	}
	return u, nil
}

// takeUser reads the one user matching where (ENOTFOUND when none).
func takeUser(db *gorm.DB, op, where string, args ...any) (notify.User, error) {
	var r userRow
	err := db.Where(where, args...).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notify.User{}, errNotFound(op, "user")
	}
	if err != nil {
		return notify.User{}, err
	}
	return r.user(), nil
}

// UserByName finds a self-signup account case-insensitively (ENOTFOUND);
// external users have no name to find.
func (s *Store) UserByName(ctx context.Context, username string) (notify.User, error) {
	// lower() on both sides matches the unique index on both dialects.
	return s.findUser(ctx, "user by name", "lower(username) = lower(?) AND username <> '' AND external_id IS NULL", username)
}

// UserByID finds a user (ENOTFOUND).
func (s *Store) UserByID(ctx context.Context, id int64) (notify.User, error) {
	return s.findUser(ctx, "user by id", "id = ?", id)
}
