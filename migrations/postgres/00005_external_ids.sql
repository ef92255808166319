-- +goose Up
-- The app's own user ids. A user a publisher talks about is identified by
-- external_id (the app's id: case-sensitive, unique); a self-signup account
-- (the demo page) by username and password. The two are separate
-- namespaces: an external user has username '' and a self-signup account
-- has no external_id, so no publisher call can resolve to a self-signup
-- account and no signup can claim an external id.
ALTER TABLE users ADD COLUMN external_id TEXT NULL;
ALTER TABLE users ADD COLUMN name TEXT NULL;

-- Users created by the publisher API so far (no password) become external
-- users keyed by their old username. Self-signup accounts keep none.
DROP INDEX users_username_lower_key;
UPDATE users SET external_id = username, username = '' WHERE password_hash = '';
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username)) WHERE username <> '';
CREATE UNIQUE INDEX users_external_id_key ON users (external_id);
ALTER TABLE users ADD CONSTRAINT users_one_identity CHECK ((username = '') <> (external_id IS NULL));

-- What a notification links to, and the app's own data (a JSON object, kept
-- as the text it was given).
ALTER TABLE notifications ADD COLUMN url TEXT NULL;
ALTER TABLE notifications ADD COLUMN data TEXT NULL;

-- Idempotency keys of the publisher API, per API key (scope: SHA-256 of the
-- key), written in the transaction that creates the notifications. A row
-- with status 0 is a claim of the transaction still running: other
-- transactions cannot see it, and one inserting the same key waits for it.
CREATE TABLE idempotency_keys (
    scope        BYTEA       NOT NULL,
    key          TEXT        NOT NULL,
    request_hash BYTEA       NOT NULL,
    status       INTEGER     NOT NULL DEFAULT 0,
    response     TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
ALTER TABLE notifications DROP COLUMN data;
ALTER TABLE notifications DROP COLUMN url;
ALTER TABLE users DROP CONSTRAINT users_one_identity;
DROP INDEX users_external_id_key;
DROP INDEX users_username_lower_key;
-- External users get their id back as username where no other user holds
-- that name case-insensitively, else "external-<id>".
UPDATE users u SET username = u.external_id
WHERE u.username = '' AND NOT EXISTS (
    SELECT 1 FROM users o WHERE o.id <> u.id
    AND (lower(o.username) = lower(u.external_id) OR lower(o.external_id) = lower(u.external_id)));
UPDATE users SET username = 'external-' || id WHERE username = '';
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
ALTER TABLE users DROP COLUMN name;
ALTER TABLE users DROP COLUMN external_id;
