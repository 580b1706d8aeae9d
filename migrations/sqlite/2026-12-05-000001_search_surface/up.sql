-- The whole ROR search surface (issue 11): the columns and indexes its parameters are read
-- through. Tokens of the new token parameters go to search_tokens; search_index_state records
-- which version of the index the stored rows were written with (the start-up re-derives them from
-- the stored resources when it is older, see db::write::reindex).
ALTER TABLE locations ADD COLUMN city_norm TEXT;
ALTER TABLE locations ADD COLUMN part_of_id TEXT;
ALTER TABLE healthcare_services ADD COLUMN name_norm TEXT;
CREATE INDEX locations_city_norm ON locations (city_norm);
CREATE INDEX locations_managing_org ON locations (managing_org_id);
CREATE INDEX locations_part_of ON locations (part_of_id) WHERE part_of_id IS NOT NULL;
CREATE INDEX healthcare_services_name_norm ON healthcare_services (name_norm);
CREATE INDEX capacities_update_date ON capacities (update_date_us);
CREATE INDEX capacities_nb_capacity ON capacities (nb_capacity);
CREATE INDEX capacities_temporary_assignment ON capacities (temporary_assignment);
CREATE INDEX capacities_gender ON capacities (gender) WHERE gender IS NOT NULL;
CREATE INDEX capacities_closing_type ON capacities (closing_type) WHERE closing_type IS NOT NULL;
CREATE INDEX capacities_additional_bed_type ON capacities (additional_bed_type) WHERE additional_bed_type IS NOT NULL;
CREATE INDEX capacities_crisis_type ON capacities (crisis_type) WHERE crisis_type IS NOT NULL;
-- Capacity conditions probed per candidate place (EXISTS … c.location_id = r.id): answered from
-- the index alone, without reading the figures' JSON; and a place's sensitive flag without its row.
CREATE INDEX capacities_probe ON capacities (location_id, capacity_status, capacity_type, temporality, nb_capacity,
    temporary_assignment, gender, update_date_us, closing_type, additional_bed_type, crisis_type);
CREATE INDEX locations_sensitive ON locations (id, sensitive);
CREATE TABLE search_index_state (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);
-- The position of each place, for `near`: a box on (latitude, longitude) through the index, then
-- the exact great-circle test on the unit vector (x, y, z), which needs no trigonometry in SQL.
CREATE TABLE location_positions (
    location_id TEXT PRIMARY KEY,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    x REAL NOT NULL,
    y REAL NOT NULL,
    z REAL NOT NULL
);
CREATE INDEX location_positions_box ON location_positions (latitude, longitude);
