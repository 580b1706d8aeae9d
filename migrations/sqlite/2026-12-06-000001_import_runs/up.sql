-- One row per committed import (written in the import's own transaction: a refused file leaves
-- none), read by the admin listener's /metrics: imports run in another process (`import`), or in
-- `serve --demo`. `finished_at` is in microseconds since the Unix epoch, as the other instants.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY NOT NULL,
    finished_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    resources BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL
);
