-- Nothing to change on SQLite: its text columns compare in code-point order (BINARY) already.
-- The PostgreSQL migration of the same name gives city_norm and name_norm the C collation.
SELECT 1;
