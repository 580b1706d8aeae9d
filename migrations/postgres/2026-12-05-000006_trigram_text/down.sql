DROP INDEX IF EXISTS healthcare_services_name_trgm;
DROP INDEX IF EXISTS locations_postal_code_trgm;
DROP INDEX IF EXISTS locations_city_trgm;
DROP INDEX IF EXISTS locations_name_trgm;
DROP VIEW service_text;
DROP VIEW location_text;
