CREATE TABLE location_views_rowid (
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    view TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (location_id, view)
);
INSERT INTO location_views_rowid (location_id, view, last_updated)
    SELECT location_id, view, last_updated FROM location_views;
DROP TABLE location_views;
ALTER TABLE location_views_rowid RENAME TO location_views;
CREATE INDEX location_views_last_updated ON location_views (view, last_updated, location_id);
