-- Whether a place is linked to a sensitive unit, kept on its row (written with the place, and moved
-- when an offer's sensitivity or links change), so that serving a page of places needs no query of
-- the links to know whose figures to hide.
ALTER TABLE locations ADD COLUMN sensitive BOOLEAN NOT NULL DEFAULT 0;
UPDATE locations SET sensitive = 1 WHERE id IN
    (SELECT shl.location_id FROM healthcare_service_locations shl
     JOIN healthcare_services sh ON sh.id = shl.service_id WHERE sh.sensitive_unit = 1);
