-- A number every import raises (and the start-up's rewrites of stored rows), read in the same
-- snapshot as a search: a count remembered under one generation is the count of that data
-- (service::counts).
CREATE TABLE data_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL);
INSERT INTO data_generation (id, generation) VALUES (1, 0);
