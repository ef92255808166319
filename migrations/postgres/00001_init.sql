-- +goose Up
CREATE TYPE notification_style AS ENUM ('info', 'warning', 'error');

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT        NOT NULL,
    password_hash TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);

-- Usernames are unique case-insensitively: "Alice" and "alice" are one
-- account. Lookups use lower(username) so they hit this index.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

CREATE TABLE sessions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the session secret; the secret itself is never stored.
    secret_hash BYTEA       NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT               NOT NULL,
    content    TEXT               NOT NULL DEFAULT '',
    style      notification_style NOT NULL DEFAULT 'info',
    read       BOOLEAN            NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ        NOT NULL,
    read_at    TIMESTAMPTZ        NULL
);

-- Pages of one user's notifications, newest first or forward from a cursor.
CREATE INDEX notifications_user_id_id_idx ON notifications (user_id, id DESC);
-- Unread counts and the unread filter touch only unread rows.
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE NOT read;

-- +goose Down
DROP TABLE notifications;
DROP TABLE sessions;
DROP TABLE users;
DROP TYPE notification_style;
