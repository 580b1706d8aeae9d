ALTER TABLE locations DROP COLUMN sensitive;
