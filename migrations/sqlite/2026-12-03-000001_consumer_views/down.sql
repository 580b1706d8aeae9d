-- Rows written after the up migration keep no lastUpdated in json_head: re-import after reverting.
CREATE INDEX locations_last_updated ON locations (last_updated, id);
DROP TABLE location_views;
ALTER TABLE locations DROP COLUMN lu_at;
