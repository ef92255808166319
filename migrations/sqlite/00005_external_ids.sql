-- +goose Up
-- The app's own user ids: see the Postgres migration of the same number.
-- SQLite cannot add a CHECK to an existing table; the store keeps the rule
-- (username '' exactly when external_id is set).
ALTER TABLE users ADD COLUMN external_id TEXT NULL;
ALTER TABLE users ADD COLUMN name TEXT NULL;

DROP INDEX users_username_lower_key;
UPDATE users SET external_id = username, username = '' WHERE password_hash = '';
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username)) WHERE username <> '';
-- BINARY collation: external ids are case-sensitive.
CREATE UNIQUE INDEX users_external_id_key ON users (external_id);

ALTER TABLE notifications ADD COLUMN url TEXT NULL;
ALTER TABLE notifications ADD COLUMN data TEXT NULL;

CREATE TABLE idempotency_keys (
    scope        BLOB     NOT NULL,
    key          TEXT     NOT NULL,
    request_hash BLOB     NOT NULL,
    status       INTEGER  NOT NULL DEFAULT 0,
    response     TEXT     NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
ALTER TABLE notifications DROP COLUMN data;
ALTER TABLE notifications DROP COLUMN url;
DROP INDEX users_external_id_key;
DROP INDEX users_username_lower_key;
UPDATE users SET username = external_id
WHERE username = '' AND NOT EXISTS (
    SELECT 1 FROM users o WHERE o.id <> users.id
    AND (lower(o.username) = lower(users.external_id) OR lower(o.external_id) = lower(users.external_id)));
UPDATE users SET username = 'external-' || id WHERE username = '';
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
ALTER TABLE users DROP COLUMN name;
ALTER TABLE users DROP COLUMN external_id;
