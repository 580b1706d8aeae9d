-- `:contains` on names, cities and postal codes reads trigram indexes (pg_trgm's GIN operator
-- class, which serves `LIKE '%abc%'`) instead of comparing the column of every row. Searches
-- name the strings through views of the same name and columns as SQLite's FTS5 tables, so that
-- one statement serves both backends. Where pg_trgm cannot be created (not installed, or not
-- allowed), the views stay and `:contains` compares every row, as before: the server says so
-- in this migration's notice rather than failing to start.
CREATE VIEW location_text AS SELECT id, name_norm, city_norm, postal_code FROM locations;
CREATE VIEW service_text AS SELECT id, name_norm FROM healthcare_services;
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX locations_name_trgm ON locations USING gin (name_norm gin_trgm_ops);
    CREATE INDEX locations_city_trgm ON locations USING gin (city_norm gin_trgm_ops);
    CREATE INDEX locations_postal_code_trgm ON locations USING gin (postal_code gin_trgm_ops);
    CREATE INDEX healthcare_services_name_trgm ON healthcare_services USING gin (name_norm gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): :contains compares every row', SQLERRM;
END
$$;
