-- +goose Up
-- AUTOINCREMENT everywhere: SQLite would otherwise reuse the id of a deleted
-- last row, and clients resume from notification ids.
CREATE TABLE users (
    id            INTEGER  PRIMARY KEY AUTOINCREMENT,
    username      TEXT     NOT NULL COLLATE NOCASE,
    password_hash TEXT     NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL
);

-- Usernames are unique case-insensitively, as on Postgres; lookups use
-- lower(username) on both dialects so they hit this index.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

CREATE TABLE sessions (
    id          INTEGER  PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the session secret; the secret itself is never stored.
    secret_hash BLOB     NOT NULL UNIQUE,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE notifications (
    id         INTEGER  PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT     NOT NULL,
    content    TEXT     NOT NULL DEFAULT '',
    style      TEXT     NOT NULL DEFAULT 'info' CHECK (style IN ('info', 'warning', 'error')),
    read       BOOLEAN  NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    created_at DATETIME NOT NULL,
    read_at    DATETIME NULL
);

CREATE INDEX notifications_user_id_id_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE NOT read;

-- +goose Down
DROP TABLE notifications;
DROP TABLE sessions;
DROP TABLE users;
