-- location_views is read one row at a time by its primary key (a place's view instant, per row of
-- every Location search): the key's index carries last_updated too, so the lookup is answered
-- from the index alone (an index-only scan once autovacuum has marked the pages all-visible).
-- SQLite's side of this migration makes the table WITHOUT ROWID, to the same end.
ALTER TABLE location_views DROP CONSTRAINT location_views_pkey;
ALTER TABLE location_views ADD PRIMARY KEY (location_id, view) INCLUDE (last_updated);
