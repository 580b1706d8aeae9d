DROP INDEX capacities_region_walk;
CREATE INDEX capacities_region_walk ON capacities (region, capacity_status, capacity_type, location_id, seq,
    temporality, nb_capacity, temporary_assignment);
ALTER TABLE capacities DROP COLUMN first_of_kind;
