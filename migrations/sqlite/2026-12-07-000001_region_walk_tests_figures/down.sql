DROP INDEX locations_region_id;
DROP INDEX capacities_region_walk;
CREATE INDEX capacities_region_walk ON capacities (region, capacity_status, capacity_type, location_id, seq);
