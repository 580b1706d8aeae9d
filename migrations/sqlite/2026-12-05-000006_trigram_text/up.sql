-- `:contains` on names, cities and postal codes reads trigram indexes: FTS5 tables with the
-- trigram tokenizer, which answer `LIKE '%abc%'` from their index when the pattern has three
-- characters or more (db::sql::conditions::trigram_indexed), instead of comparing the column of
-- every row (a rare name read the whole locations table: a second on the France set). Each keeps
-- the resource's id and its normalised strings, under the resource row's rowid, kept by triggers.
CREATE VIRTUAL TABLE location_text USING fts5(id UNINDEXED, name_norm, city_norm, postal_code, tokenize = 'trigram');
INSERT INTO location_text (rowid, id, name_norm, city_norm, postal_code)
    SELECT rowid, id, name_norm, city_norm, postal_code FROM locations;
CREATE TRIGGER location_text_insert AFTER INSERT ON locations BEGIN
    INSERT INTO location_text (rowid, id, name_norm, city_norm, postal_code)
        VALUES (new.rowid, new.id, new.name_norm, new.city_norm, new.postal_code);
END;
CREATE TRIGGER location_text_delete AFTER DELETE ON locations BEGIN
    DELETE FROM location_text WHERE rowid = old.rowid;
END;
CREATE TRIGGER location_text_update AFTER UPDATE OF id, name_norm, city_norm, postal_code ON locations BEGIN
    DELETE FROM location_text WHERE rowid = old.rowid;
    INSERT INTO location_text (rowid, id, name_norm, city_norm, postal_code)
        VALUES (new.rowid, new.id, new.name_norm, new.city_norm, new.postal_code);
END;

CREATE VIRTUAL TABLE service_text USING fts5(id UNINDEXED, name_norm, tokenize = 'trigram');
INSERT INTO service_text (rowid, id, name_norm) SELECT rowid, id, name_norm FROM healthcare_services;
CREATE TRIGGER service_text_insert AFTER INSERT ON healthcare_services BEGIN
    INSERT INTO service_text (rowid, id, name_norm) VALUES (new.rowid, new.id, new.name_norm);
END;
CREATE TRIGGER service_text_delete AFTER DELETE ON healthcare_services BEGIN
    DELETE FROM service_text WHERE rowid = old.rowid;
END;
CREATE TRIGGER service_text_update AFTER UPDATE OF id, name_norm ON healthcare_services BEGIN
    DELETE FROM service_text WHERE rowid = old.rowid;
    INSERT INTO service_text (rowid, id, name_norm) VALUES (new.rowid, new.id, new.name_norm);
END;
