-- The columns come back empty: the data they held is in the places' pieces (extensions) or is
-- rendered when read (Observations); a later import fills them again.
ALTER TABLE capacities ADD COLUMN extension_json TEXT NOT NULL DEFAULT '',
    ADD COLUMN observation_json TEXT NOT NULL DEFAULT '';
