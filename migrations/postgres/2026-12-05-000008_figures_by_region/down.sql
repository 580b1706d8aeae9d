DROP TABLE search_tags_off_region;
DROP INDEX capacities_region_walk;
ALTER TABLE capacities DROP COLUMN region;
