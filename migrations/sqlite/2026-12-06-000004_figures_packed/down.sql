-- The packed pieces go with their column, and SQL cannot unpack them into `figures_json` first:
-- a database taken back before this migration has lost the figures of the places packed since
-- (tests only; they read the pieces before reverting).
ALTER TABLE locations DROP COLUMN figures_lz4;
