-- `:contains` on names, cities and postal codes reads trigram indexes: FTS5 tables with the
-- trigram tokenizer, which answer `LIKE '%abc%'` from their index when the pattern has three
-- characters or more (db::sql::conditions::trigram_indexed), instead of comparing the column of
-- every row (a rare name read the whole locations table: a second on the France set). Each keeps
-- the resource's id and its normalised strings, under the resource row's rowid.
--
-- Triggers do not write them: an FTS5 table writes what it holds in memory to disk at every
-- savepoint, and the import opens one per record, which made a national import a quarter
-- slower. The triggers queue the rows changed in `text_changes`; the transaction that changed
-- them applies the queue in two statements before it commits (db::write::advance_generation).
CREATE VIRTUAL TABLE location_text USING fts5(id UNINDEXED, name_norm, city_norm, postal_code, tokenize = 'trigram');
INSERT INTO location_text (rowid, id, name_norm, city_norm, postal_code)
    SELECT rowid, id, name_norm, city_norm, postal_code FROM locations;
CREATE VIRTUAL TABLE service_text USING fts5(id UNINDEXED, name_norm, tokenize = 'trigram');
INSERT INTO service_text (rowid, id, name_norm) SELECT rowid, id, name_norm FROM healthcare_services;

-- kind: 'location' or 'service'; removed: the row left (its text row goes), else it came.
CREATE TABLE text_changes (kind TEXT NOT NULL, row_id INTEGER NOT NULL, removed BOOLEAN NOT NULL);
CREATE TRIGGER location_text_insert AFTER INSERT ON locations BEGIN
    INSERT INTO text_changes VALUES ('location', new.rowid, FALSE);
END;
CREATE TRIGGER location_text_delete AFTER DELETE ON locations BEGIN
    INSERT INTO text_changes VALUES ('location', old.rowid, TRUE);
END;
CREATE TRIGGER location_text_update AFTER UPDATE OF id, name_norm, city_norm, postal_code ON locations BEGIN
    INSERT INTO text_changes VALUES ('location', old.rowid, TRUE), ('location', new.rowid, FALSE);
END;
CREATE TRIGGER service_text_insert AFTER INSERT ON healthcare_services BEGIN
    INSERT INTO text_changes VALUES ('service', new.rowid, FALSE);
END;
CREATE TRIGGER service_text_delete AFTER DELETE ON healthcare_services BEGIN
    INSERT INTO text_changes VALUES ('service', old.rowid, TRUE);
END;
CREATE TRIGGER service_text_update AFTER UPDATE OF id, name_norm ON healthcare_services BEGIN
    INSERT INTO text_changes VALUES ('service', old.rowid, TRUE), ('service', new.rowid, FALSE);
END;
