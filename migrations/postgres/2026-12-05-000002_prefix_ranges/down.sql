ALTER TABLE healthcare_services ALTER COLUMN name_norm TYPE TEXT COLLATE "default";
ALTER TABLE locations ALTER COLUMN city_norm TYPE TEXT COLLATE "default";
