-- +goose Up
-- Live events too large for a NOTIFY payload (cluster mode, Postgres only;
-- the table exists here too so both dialects stay at the same version).
CREATE TABLE cluster_events (
    id         INTEGER  PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       TEXT     NOT NULL,
    data       TEXT     NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);

CREATE INDEX cluster_events_created_at_idx ON cluster_events (created_at);

-- +goose Down
DROP TABLE cluster_events;
