ALTER TABLE locations DROP COLUMN view_instants;
