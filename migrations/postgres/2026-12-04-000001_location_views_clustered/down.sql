ALTER TABLE location_views DROP CONSTRAINT location_views_pkey;
ALTER TABLE location_views ADD PRIMARY KEY (location_id, view);
