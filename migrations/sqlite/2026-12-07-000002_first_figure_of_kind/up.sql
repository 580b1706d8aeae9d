-- A figure that is its place's first of its status and type (no figure of the place with a lower
-- seq has both): the région walk (db::sql::figure_walk) reads a place at its first figure that
-- passes the tests, and so far probed the index once more for every figure that passed, to find
-- an earlier one that passes too. Such a figure cannot have one: the probe now runs only for the
-- others. FALSE is always safe (the probe then decides): only TRUE must be exact.
ALTER TABLE capacities ADD COLUMN first_of_kind BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE capacities SET first_of_kind = NOT EXISTS (SELECT 1 FROM capacities e
    WHERE e.location_id = capacities.location_id AND e.capacity_status = capacities.capacity_status
      AND e.capacity_type = capacities.capacity_type AND e.seq < capacities.seq);
DROP INDEX capacities_region_walk;
CREATE INDEX capacities_region_walk ON capacities (region, capacity_status, capacity_type, location_id, seq,
    temporality, nb_capacity, temporary_assignment, first_of_kind);
