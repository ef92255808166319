-- +goose Up
-- Live events too large for a NOTIFY payload (cluster mode): the sender
-- stores the event here and announces its id; each instance's listener
-- reads it. Rows live about a minute, then the listeners' sweep deletes
-- them. Events are never kept: this is a mailbox, not a history.
CREATE TABLE cluster_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       TEXT        NOT NULL,
    data       TEXT        NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX cluster_events_created_at_idx ON cluster_events (created_at);

-- +goose Down
DROP TABLE cluster_events;
