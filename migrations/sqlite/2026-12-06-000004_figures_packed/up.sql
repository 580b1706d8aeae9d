-- A place's capacity extensions (its piece, ~6.7 kB for five figures at 120k places) are JSON
-- that repeats the same extension URLs and codes: stored LZ4-compressed they take about a seventh
-- of that, and a place's row (then ~3 kB) shares its 16 KiB page with others instead of filling
-- one alone. The column is written by the import; pieces stored before it are packed by the
-- server's start-up (`db::write::pack_stored_pieces`, which empties `figures_json` as it goes):
-- compressing is not something SQL can do.
ALTER TABLE locations ADD COLUMN figures_lz4 BLOB;
