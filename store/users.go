package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/notifyd/notifyd/notify"
)

// userRow is a row of the users table.
type userRow struct {
	ID           int64
	Username     string
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) user() notify.User {
	return notify.User{ID: r.ID, Username: r.Username, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.UTC()}
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

// EnsureUser returns the user named username (case-insensitively),
// creating it without a password when there is none. It is safe against a
// concurrent EnsureUser or CreateUser for the same name: the insert does
// nothing on conflict and the existing row is read instead.
func (s *Store) EnsureUser(ctx context.Context, username string, now time.Time) (notify.User, bool, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	r := userRow{Username: username, CreatedAt: utc(now)}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
	if res.Error != nil {
		return notify.User{}, false, s.translate(ctx, "ensure user", res.Error)
	}
	if res.RowsAffected == 1 {
		return r.user(), true, nil
	}
	u, err := s.userByName(db, username)
	if err != nil {
		return notify.User{}, false, s.translate(ctx, "ensure user", err)
	}
	return u, false, nil
}

// UserByName finds a user case-insensitively (ENOTFOUND).
func (s *Store) UserByName(ctx context.Context, username string) (notify.User, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	u, err := s.userByName(db, username)
	if err != nil {
		return notify.User{}, s.translate(ctx, "user by name", err)
	}
	return u, nil
}

func (s *Store) userByName(db *gorm.DB, username string) (notify.User, error) {
	var r userRow
	// lower() on both sides matches the unique index on both dialects.
	err := db.Where("lower(username) = lower(?)", username).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notify.User{}, errNotFound("user by name", "user")
	}
	if err != nil {
		return notify.User{}, err
	}
	return r.user(), nil
}

// UserByID finds a user (ENOTFOUND).
func (s *Store) UserByID(ctx context.Context, id int64) (notify.User, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	var r userRow
	err := db.Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notify.User{}, errNotFound("user by id", "user")
	}
	if err != nil {
		return notify.User{}, s.translate(ctx, "user by id", err)
	}
	return r.user(), nil
}
