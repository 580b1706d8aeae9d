-- Each capacity figure was stored three times: as its extension's JSON (capacities.extension_json),
-- as its Observation's JSON (capacities.observation_json), and within its place's piece
-- (locations.figures_json). Now once: the piece keeps the extensions (a consumer who may not see
-- all of a place's figures gets the visible ones taken from it, by position), and Observations are
-- rendered when read from the facts `capacities` keeps anyway.
--
-- Places written before the pieces existed get theirs first.
UPDATE locations SET
    figures_json = COALESCE((SELECT group_concat(c.extension_json, ',' ORDER BY c.seq)
                             FROM capacities c WHERE c.location_id = locations.id), ''),
    figure_statuses = COALESCE((SELECT group_concat(DISTINCT c.capacity_status)
                                FROM capacities c WHERE c.location_id = locations.id), ''),
    figure_assignments = COALESCE((SELECT group_concat(DISTINCT c.temporary_assignment)
                                   FROM capacities c WHERE c.location_id = locations.id), '')
WHERE figures_json IS NULL;
ALTER TABLE capacities DROP COLUMN extension_json;
ALTER TABLE capacities DROP COLUMN observation_json;
