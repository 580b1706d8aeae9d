-- String searches read a prefix as a range of the normalised column's index, in code-point order:
-- the C collation, as locations.name_norm has had since the first migration.
ALTER TABLE locations ALTER COLUMN city_norm TYPE TEXT COLLATE "C";
ALTER TABLE healthcare_services ALTER COLUMN name_norm TYPE TEXT COLLATE "C";
