-- A figure carries its place's région (the code of the place's first tag of the région system),
-- so that a search for figures in one région reads them along one index in place order
-- (capacities_region_walk) instead of probing the figures of every place of the région.
ALTER TABLE capacities ADD COLUMN region TEXT;
UPDATE capacities c SET region = l.region FROM locations l WHERE l.id = c.location_id;
CREATE INDEX capacities_region_walk ON capacities (region, capacity_status, capacity_type, location_id, seq);
-- The `_tag` codes some place holds other than as its région (a tag of another system, a second
-- région tag). For the others, "the places tagged v" are exactly "the places of région v", and
-- such a search may be read along capacities_region_walk (db::sql::figure_walk). The import adds
-- to it; a code stays listed when its places change (such a search then takes the slower walk).
CREATE TABLE search_tags_off_region (code TEXT PRIMARY KEY NOT NULL);
INSERT INTO search_tags_off_region (code)
    SELECT DISTINCT t.code FROM search_tokens t JOIN locations l ON l.id = t.resource_id
    WHERE t.resource_type = 'Location' AND t.param = '_tag' AND (l.region IS NULL OR t.code <> l.region);
