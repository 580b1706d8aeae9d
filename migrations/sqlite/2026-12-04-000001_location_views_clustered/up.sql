-- location_views is read one row at a time by its primary key (a place's view instant, per row of
-- every Location search) and written four rows per place: as a WITHOUT ROWID table the primary key
-- is the table itself, so a lookup is one b-tree search and an insert touches two b-trees, not three.
CREATE TABLE location_views_clustered (
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    view TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (location_id, view)
) WITHOUT ROWID;
INSERT INTO location_views_clustered (location_id, view, last_updated)
    SELECT location_id, view, last_updated FROM location_views;
DROP TABLE location_views;
ALTER TABLE location_views_clustered RENAME TO location_views;
CREATE INDEX location_views_last_updated ON location_views (view, last_updated, location_id);
