package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// AccountStore is what Accounts needs from the database (store.Store).
type AccountStore interface {
	// CreateUser fails with ECONFLICT when the name is taken, compared
	// case-insensitively.
	CreateUser(ctx context.Context, username, passwordHash string, now time.Time) (User, error)
	// EnsureExternalUser returns the external user with that id, creating
	// it when there is none; created tells which happened. A non-nil name
	// is stored as the display name either way. It never returns a
	// self-signup account.
	EnsureExternalUser(ctx context.Context, externalID string, name *string, now time.Time) (u User, created bool, err error)
	// UserByExternalID finds an external user, case-sensitively (ENOTFOUND).
	UserByExternalID(ctx context.Context, externalID string) (User, error)
	// UserByName finds a self-signup account case-insensitively (ENOTFOUND).
	UserByName(ctx context.Context, username string) (User, error)
	// UserByID finds a user (ENOTFOUND).
	UserByID(ctx context.Context, id int64) (User, error)
	// CreateSession stores s (its SecretHash, never the secret) and returns
	// it with its id.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// SessionBySecretHash returns the session with that hash and its user
	// (ENOTFOUND), whether or not it has expired.
	SessionBySecretHash(ctx context.Context, hash []byte) (Session, User, error)
	// SessionAndPosition is SessionBySecretHash with the user's Position,
	// read in the same statement.
	SessionAndPosition(ctx context.Context, hash []byte) (Session, User, Position, error)
	// DeleteSession deletes a session; deleting a missing one is no error.
	DeleteSession(ctx context.Context, id int64) error
	// DeleteUserSessions deletes every session of userID and returns their
	// ids.
	DeleteUserSessions(ctx context.Context, userID int64) ([]int64, error)
	// TrimSessions deletes the sessions of userID but the keep newest and
	// returns the deleted ids.
	TrimSessions(ctx context.Context, userID int64, keep int) ([]int64, error)
}

// AccountsConfig tunes Accounts.
type AccountsConfig struct {
	SessionTTL time.Duration  // auth.session_ttl
	Password   PasswordParams // argon2id cost; zero: DefaultPasswordParams()
	// HashConcurrency bounds the hashes computed at once, process-wide
	// (auth.hash_concurrency; 0: the number of CPUs), and HashQueue the
	// callers waiting for one (auth.hash_queue).
	HashConcurrency int
	HashQueue       int
	// MaxSessionsPerUser is auth.max_sessions_per_user.
	MaxSessionsPerUser int
}

// Accounts signs users up and in, and resolves session secrets. Both the
// HTTP API and the websocket server authenticate through it.
type Accounts struct {
	store  AccountStore
	cfg    AccountsConfig
	tokens TokenVerifier // nil: tokens are refused
	now    func() time.Time
	// dummyHash is checked against for unknown usernames, so a login for a
	// name that does not exist costs the same as a wrong password.
	dummyHash string
	hashes    *hashGate
	// external learns the external users read or created here, for the
	// Service it is shared with (ExternalIDs).
	external *ExternalIDs
}

// NewAccounts returns an Accounts over store. tokens verifies the tokens
// of the app's backend (auth.jwt); nil refuses every token with
// "tokens are not configured". cfg comes from the validated [auth]
// section (config.Default holds the defaults); a value config.Validate
// would refuse is an error here too, not replaced by a default. external
// is the cache of external ids it shares with Service; nil: one of its
// own.
func NewAccounts(store AccountStore, cfg AccountsConfig, tokens TokenVerifier, external *ExternalIDs) (*Accounts, error) {
	switch {
	case cfg.SessionTTL <= 0:
		return nil, fmt.Errorf("notify: new accounts: session ttl must be positive, got %s", cfg.SessionTTL)
	case cfg.MaxSessionsPerUser < 1:
		return nil, fmt.Errorf("notify: new accounts: max sessions per user must be at least 1, got %d", cfg.MaxSessionsPerUser)
	case cfg.HashQueue < 1:
		return nil, fmt.Errorf("notify: new accounts: hash queue must be at least 1, got %d", cfg.HashQueue)
	}
	if cfg.Password == (PasswordParams{}) {
		cfg.Password = DefaultPasswordParams()
	}
	dummy, err := HashPassword("not a real password", cfg.Password)
	if err != nil {
		return nil, err
	}
	return &Accounts{store: store, cfg: cfg, tokens: tokens, now: time.Now, dummyHash: dummy,
		hashes: newHashGate(cfg.HashConcurrency, cfg.HashQueue), external: externalOr(external)}, nil
}

// SessionTTL is how long a new session lives.
func (a *Accounts) SessionTTL() time.Duration { return a.cfg.SessionTTL }

func errBadLogin() error { return Errorf(EUNAUTHORIZED, "invalid username or password") }

// Signup creates a user with a password.
func (a *Accounts) Signup(ctx context.Context, username, password string) (User, error) {
	if err := ValidateUsername(username); err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	var hash string
	var err error
	if gateErr := a.hashes.run(ctx, func() { hash, err = HashPassword(password, a.cfg.Password) }); gateErr != nil {
		return User{}, gateErr
	}
	if err != nil {
		return User{}, err
	}
	u, err := a.store.CreateUser(ctx, username, hash, a.now())
	if err != nil {
		if ErrorCode(err) == ECONFLICT {
			return User{}, Errorf(ECONFLICT, "username: is already taken")
		}
		return User{}, fmt.Errorf("notify: signup: %w", err)
	}
	return u, nil
}

// Login checks a username and password and opens a session. Unknown users
// and wrong passwords get the same error after the same work.
func (a *Accounts) Login(ctx context.Context, username, password string) (User, string, Session, error) {
	if username == "" {
		return User{}, "", Session{}, Errorf(EINVALID, "username: is required")
	}
	if password == "" {
		return User{}, "", Session{}, Errorf(EINVALID, "password: is required")
	}
	// No account has a password this long, whoever asks: refusing it before
	// the lookup takes the same time for known and unknown names.
	if len(password) > 4*MaxPasswordLen {
		return User{}, "", Session{}, errBadLogin()
	}
	u, err := a.store.UserByName(ctx, username)
	found, hash := true, u.PasswordHash
	switch {
	case ErrorCode(err) == ENOTFOUND:
		// An unknown name costs the same hash as a wrong password.
		found, hash = false, a.dummyHash
	case err != nil:
		return User{}, "", Session{}, fmt.Errorf("notify: login: %w", err)
	}
	ok := false
	if err := a.hashes.run(ctx, func() { ok = CheckPassword(password, hash, a.cfg.Password) }); err != nil {
		return User{}, "", Session{}, err
	}
	if !ok || !found {
		return User{}, "", Session{}, errBadLogin()
	}
	secret, s, err := a.NewSession(ctx, u.ID)
	if err != nil {
		return User{}, "", Session{}, err
	}
	return u, secret, s, nil
}

// NewSession opens a session for userID and returns its secret: 256 random
// bits, base64url. Only its SHA-256 is stored.
func (a *Accounts) NewSession(ctx context.Context, userID int64) (string, Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Session{}, fmt.Errorf("notify: session secret: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	now := a.now()
	s, err := a.store.CreateSession(ctx, Session{
		UserID:     userID,
		SecretHash: HashSecret(secret),
		CreatedAt:  now,
		ExpiresAt:  now.Add(a.cfg.SessionTTL),
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("notify: create session: %w", err)
	}
	return secret, s, nil
}

// HashSecret is how a session secret is stored and looked up.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Authenticate resolves a session secret to its user and session. Unknown,
// revoked and expired secrets all fail with EUNAUTHORIZED.
func (a *Accounts) Authenticate(ctx context.Context, secret string) (User, Session, error) {
	if err := checkSecret(secret); err != nil {
		return User{}, Session{}, err
	}
	s, u, err := a.store.SessionBySecretHash(ctx, HashSecret(secret))
	if err := a.checkSession(s, err); err != nil {
		return User{}, Session{}, err
	}
	return u, s, nil
}

// AuthenticateWithPosition is Authenticate, and also returns the user's
// Position, read in the same statement: a socket's auth and hello in one
// round trip. The position is read before the socket registers; the
// caller proves it current with Hub.ChangedSince, or reads it again.
func (a *Accounts) AuthenticateWithPosition(ctx context.Context, secret string) (User, Session, Position, error) {
	if err := checkSecret(secret); err != nil {
		return User{}, Session{}, Position{}, err
	}
	s, u, pos, err := a.store.SessionAndPosition(ctx, HashSecret(secret))
	if err := a.checkSession(s, err); err != nil {
		return User{}, Session{}, Position{}, err
	}
	return u, s, pos, nil
}

// checkSecret refuses, without touching the database, a secret far off
// the 43 base64url characters of a real one.
func checkSecret(secret string) error {
	if secret == "" || len(secret) > 256 {
		return Errorf(EUNAUTHORIZED, "missing or invalid session")
	}
	return nil
}

// checkSession turns the lookup of a session (s, err) into the error of
// Authenticate: none, EUNAUTHORIZED for a missing or expired session, or
// the store's.
func (a *Accounts) checkSession(s Session, err error) error {
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Errorf(EUNAUTHORIZED, "missing or invalid session")
	case err != nil:
		return fmt.Errorf("notify: authenticate: %w", err)
	case !a.now().Before(s.ExpiresAt):
		return Errorf(EUNAUTHORIZED, "session expired")
	}
	return nil
}

// Logout deletes the session; its secret stops working at once. The caller
// closes the session's sockets (Service.CloseSession).
func (a *Accounts) Logout(ctx context.Context, s Session) error {
	if err := a.store.DeleteSession(ctx, s.ID); err != nil {
		return fmt.Errorf("notify: logout: %w", err)
	}
	return nil
}

// EnsureExternalUser returns the external user the app's backend names
// externalID, creating it if needed (publisher user sync, tokens, session
// secrets minted for the app). A non-nil name sets the display name.
func (a *Accounts) EnsureExternalUser(ctx context.Context, externalID string, name *string) (User, bool, error) {
	if err := ValidateExternalID("external_id", externalID); err != nil {
		return User{}, false, err
	}
	if name != nil {
		if err := ValidateText("name", *name, 0, MaxNameLen); err != nil {
			return User{}, false, err
		}
	}
	u, created, err := a.store.EnsureExternalUser(ctx, externalID, name, a.now())
	if err != nil {
		return User{}, false, fmt.Errorf("notify: ensure external user: %w", err)
	}
	a.external.learnUser(u)
	return u, created, nil
}

// ExternalUser returns the external user named externalID (ENOTFOUND when
// there is none, or when the id is not a valid external id).
func (a *Accounts) ExternalUser(ctx context.Context, externalID string) (User, error) {
	if ValidateExternalID("external_id", externalID) != nil {
		return User{}, Errorf(ENOTFOUND, "user not found")
	}
	return a.store.UserByExternalID(ctx, externalID)
}

// User returns the user with id (ENOTFOUND).
func (a *Accounts) User(ctx context.Context, id int64) (User, error) {
	return a.store.UserByID(ctx, id)
}

// LogoutAll deletes every session of userID ("log out everywhere") and
// returns their ids; the caller closes their sockets
// (Service.CloseSessions).
func (a *Accounts) LogoutAll(ctx context.Context, userID int64) ([]int64, error) {
	ids, err := a.store.DeleteUserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("notify: logout all: %w", err)
	}
	return ids, nil
}

// TrimSessions ends the oldest sessions of userID beyond
// auth.max_sessions_per_user, after a new one was opened, and returns
// their ids; the caller closes their sockets (Service.CloseSessions). The
// cap keeps a script that logs in forever from filling the table.
func (a *Accounts) TrimSessions(ctx context.Context, userID int64) ([]int64, error) {
	ids, err := a.store.TrimSessions(ctx, userID, a.cfg.MaxSessionsPerUser)
	if err != nil {
		return nil, fmt.Errorf("notify: trim sessions: %w", err)
	}
	return ids, nil
}
