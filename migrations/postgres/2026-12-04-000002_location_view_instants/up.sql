-- A place's view instants (location_views) also kept on its row, as "instant:view" entries
-- separated by spaces (view keys contain neither), so that serving a place reads its consumer's
-- instant with the row instead of one lookup per place. location_views stays the index that
-- _lastUpdated searches and sorts walk.
ALTER TABLE locations ADD COLUMN view_instants TEXT;
UPDATE locations l SET view_instants =
    (SELECT string_agg(lv.last_updated || ':' || lv.view, ' ') FROM location_views lv WHERE lv.location_id = l.id);
