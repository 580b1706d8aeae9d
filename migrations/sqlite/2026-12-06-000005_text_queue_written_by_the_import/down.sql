CREATE TRIGGER location_text_insert AFTER INSERT ON locations BEGIN
    INSERT INTO text_changes VALUES ('location', new.rowid, FALSE);
END;
CREATE TRIGGER location_text_delete AFTER DELETE ON locations BEGIN
    INSERT INTO text_changes VALUES ('location', old.rowid, TRUE);
END;
CREATE TRIGGER service_text_insert AFTER INSERT ON healthcare_services BEGIN
    INSERT INTO text_changes VALUES ('service', new.rowid, FALSE);
END;
CREATE TRIGGER service_text_delete AFTER DELETE ON healthcare_services BEGIN
    INSERT INTO text_changes VALUES ('service', old.rowid, TRUE);
END;
