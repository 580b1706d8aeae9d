-- A place's capacity extensions stored LZ4-compressed by the server (see the SQLite migration):
-- the same bytes on both backends. PostgreSQL would compress the text itself, but only once a
-- row passes 2 kB, and it decompresses on every read anyway.
ALTER TABLE locations ADD COLUMN figures_lz4 BYTEA;
