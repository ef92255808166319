-- +goose Up
-- Each user's change sequence: every transaction that changes what the
-- user's sockets see (a new notification, read/unread, delete, read-all,
-- a session deleted) adds to it under the user's row lock and hands the new
-- value to the broker with the change. A receiving instance drops a change
-- at or below the last seq it delivered (a duplicate) and catches the
-- user's sockets up from the database when one is skipped (a gap), so the
-- cluster brokers may lose or repeat a message. Existing users start at 0:
-- instances running an older binary do not add to it, so stop them before
-- migrating (a cluster of mixed versions would see gaps and catch up).
ALTER TABLE users ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN seq;
