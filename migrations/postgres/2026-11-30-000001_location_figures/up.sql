-- Each place also keeps its capacity figures in one piece (the capacity extensions of the
-- Location, in order, comma-separated) with the distinct statuses and temporary assignments
-- among them. A consumer allowed to see every figure of a place is served this piece, with no
-- read of `capacities`; other consumers get the figures filtered from `capacities` as before.
-- NULL (places written before this migration): always filtered from `capacities`.
ALTER TABLE locations ADD COLUMN figures_json TEXT;
ALTER TABLE locations ADD COLUMN figure_statuses TEXT;
ALTER TABLE locations ADD COLUMN figure_assignments TEXT;
