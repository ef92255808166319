-- +goose Up
-- The retention sweeper deletes read notifications by read_at and unread
-- ones by created_at, in small batches; these partial indexes let each
-- batch find its rows without scanning the table.
CREATE INDEX notifications_read_at_idx ON notifications (read_at) WHERE read;
CREATE INDEX notifications_unread_created_at_idx ON notifications (created_at) WHERE NOT read;

-- +goose Down
DROP INDEX notifications_unread_created_at_idx;
DROP INDEX notifications_read_at_idx;
