DROP TRIGGER service_text_update;
DROP TRIGGER service_text_delete;
DROP TRIGGER service_text_insert;
DROP TABLE service_text;
DROP TRIGGER location_text_update;
DROP TRIGGER location_text_delete;
DROP TRIGGER location_text_insert;
DROP TABLE location_text;
