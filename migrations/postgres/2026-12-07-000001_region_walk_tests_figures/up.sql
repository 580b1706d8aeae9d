-- The région walk (db::sql::figure_walk) tests a regulator's whole figure condition on the walked
-- figure itself when its index holds every column the tests read: temporality, nb-capacity and
-- the temporary assignment (which profiles also filter on) join the index, and no per-place probe
-- of capacities_probe is made (a descent per candidate place, through pages spread over the whole
-- index, since place ids do not follow régions).
DROP INDEX capacities_region_walk;
CREATE INDEX capacities_region_walk ON capacities (region, capacity_status, capacity_type, location_id, seq,
    temporality, nb_capacity, temporary_assignment);
