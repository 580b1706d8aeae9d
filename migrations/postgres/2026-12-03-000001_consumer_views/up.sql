-- What a consumer sees of a place's meta.lastUpdated depends only on what it may see: one row per
-- place and view (a distinct set of visible capacity figures, named by the access policy: see
-- src/auth/views.rs), moved only when what that view shows changes. locations.last_updated is now
-- the last change of the place without its figures; capacities.last_updated stays the figure's own.
-- The served JSON of a place no longer holds its lastUpdated: it is written at lu_at (an offset
-- into json_head followed by json_tail). NULL (rows written before): upgraded at start.
ALTER TABLE locations ADD COLUMN lu_at BIGINT;
CREATE TABLE location_views (
    location_id TEXT COLLATE "C" NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    view TEXT COLLATE "C" NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (location_id, view)
);
CREATE INDEX location_views_last_updated ON location_views (view, last_updated, location_id);
DROP INDEX locations_last_updated;
