-- Each capacity figure was stored three times: as its extension's JSON (capacities.extension_json),
-- as its Observation's JSON (capacities.observation_json), and within its place's piece
-- (locations.figures_json). Now once: the piece keeps the extensions (a consumer who may not see
-- all of a place's figures gets the visible ones taken from it, by position), and Observations are
-- rendered when read from the facts `capacities` keeps anyway.
--
-- Places written before the pieces existed get theirs first.
UPDATE locations l SET
    figures_json = COALESCE((SELECT string_agg(c.extension_json, ',' ORDER BY c.seq)
                             FROM capacities c WHERE c.location_id = l.id), ''),
    figure_statuses = COALESCE((SELECT string_agg(DISTINCT c.capacity_status, ',')
                                FROM capacities c WHERE c.location_id = l.id), ''),
    figure_assignments = COALESCE((SELECT string_agg(DISTINCT c.temporary_assignment, ',')
                                   FROM capacities c WHERE c.location_id = l.id), '')
WHERE l.figures_json IS NULL;
ALTER TABLE capacities DROP COLUMN extension_json, DROP COLUMN observation_json;
