-- +goose Up
-- Each user's number of unread notifications, kept up to date by every
-- transaction that inserts, reads, unreads or deletes notifications (they
-- hold the user's row lock while doing so), so reading the count is a
-- primary-key lookup instead of a count over the user's unread rows.
ALTER TABLE users ADD COLUMN unread_count BIGINT NOT NULL DEFAULT 0;

-- Backfill. Instances still running an older binary do not maintain the
-- column: stop them before migrating (or run this UPDATE again after).
UPDATE users SET unread_count =
    (SELECT COUNT(*) FROM notifications n WHERE n.user_id = users.id AND NOT n.read);

-- +goose Down
ALTER TABLE users DROP COLUMN unread_count;
