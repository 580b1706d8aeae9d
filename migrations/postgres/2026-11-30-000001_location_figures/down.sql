ALTER TABLE locations DROP COLUMN figure_assignments;
ALTER TABLE locations DROP COLUMN figure_statuses;
ALTER TABLE locations DROP COLUMN figures_json;
