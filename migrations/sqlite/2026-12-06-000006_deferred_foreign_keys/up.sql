-- The rows that point at a place (its figures, its views) or at an offer (its links) check their
-- foreign key when the transaction commits, not at each statement. An immediate foreign key made
-- every multi-row insert of a place's figures, views and links keep a statement journal (a copy
-- of each page it first changes: the figures' table and its thirteen indexes), for a conflict the import's
-- one transaction undoes whole anyway; that copying was about a sixth of a national import's
-- writing (BENCHMARKS.md). A violation now fails the commit, and so the file, as before.
--
-- SQLite cannot alter a constraint: each table is rebuilt with its rows and indexes.
CREATE TABLE capacities_deferred (
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    seq INTEGER NOT NULL,
    observation_id TEXT NOT NULL UNIQUE,
    capacity_type TEXT NOT NULL,
    capacity_status TEXT NOT NULL,
    temporality TEXT NOT NULL,
    nb_capacity INTEGER NOT NULL,
    source_type TEXT NOT NULL,
    gender TEXT,
    update_date TEXT NOT NULL,
    update_date_us BIGINT NOT NULL,
    closing_type TEXT,
    additional_bed_type TEXT,
    crisis_type TEXT,
    temporary_assignment TEXT NOT NULL,
    comment TEXT,
    last_updated BIGINT NOT NULL,
    region TEXT,
    PRIMARY KEY (location_id, seq)
);
INSERT INTO capacities_deferred (location_id, seq, observation_id, capacity_type, capacity_status, temporality,
        nb_capacity, source_type, gender, update_date, update_date_us, closing_type, additional_bed_type,
        crisis_type, temporary_assignment, comment, last_updated, region)
    SELECT location_id, seq, observation_id, capacity_type, capacity_status, temporality, nb_capacity,
        source_type, gender, update_date, update_date_us, closing_type, additional_bed_type, crisis_type,
        temporary_assignment, comment, last_updated, region
    FROM capacities ORDER BY location_id, seq;
DROP TABLE capacities;
ALTER TABLE capacities_deferred RENAME TO capacities;
CREATE INDEX capacities_last_updated ON capacities (last_updated, observation_id);
CREATE INDEX capacities_type_status ON capacities (capacity_status, capacity_type);
CREATE INDEX capacities_update_date ON capacities (update_date_us);
CREATE INDEX capacities_nb_capacity ON capacities (nb_capacity);
CREATE INDEX capacities_temporary_assignment ON capacities (temporary_assignment);
CREATE INDEX capacities_gender ON capacities (gender) WHERE gender IS NOT NULL;
CREATE INDEX capacities_closing_type ON capacities (closing_type) WHERE closing_type IS NOT NULL;
CREATE INDEX capacities_additional_bed_type ON capacities (additional_bed_type) WHERE additional_bed_type IS NOT NULL;
CREATE INDEX capacities_crisis_type ON capacities (crisis_type) WHERE crisis_type IS NOT NULL;
CREATE INDEX capacities_probe ON capacities (location_id, capacity_status, capacity_type, temporality, nb_capacity,
    temporary_assignment, gender, update_date_us, closing_type, additional_bed_type, crisis_type);
CREATE INDEX capacities_region_walk ON capacities (region, capacity_status, capacity_type, location_id, seq);

CREATE TABLE location_views_deferred (
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    view TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (location_id, view)
) WITHOUT ROWID;
INSERT INTO location_views_deferred (location_id, view, last_updated)
    SELECT location_id, view, last_updated FROM location_views;
DROP TABLE location_views;
ALTER TABLE location_views_deferred RENAME TO location_views;
CREATE INDEX location_views_last_updated ON location_views (view, last_updated, location_id);

CREATE TABLE healthcare_service_locations_deferred (
    service_id TEXT NOT NULL REFERENCES healthcare_services (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    location_id TEXT NOT NULL,
    PRIMARY KEY (service_id, location_id)
);
INSERT INTO healthcare_service_locations_deferred (service_id, location_id)
    SELECT service_id, location_id FROM healthcare_service_locations ORDER BY service_id, location_id;
DROP TABLE healthcare_service_locations;
ALTER TABLE healthcare_service_locations_deferred RENAME TO healthcare_service_locations;
CREATE INDEX healthcare_service_locations_location ON healthcare_service_locations (location_id, service_id);

-- The planner's statistics of the tables dropped went with them: taken again (as the import does,
-- without the value samples of sqlite_stat4: import::refresh_statistics).
ANALYZE capacities;
ANALYZE location_views;
ANALYZE healthcare_service_locations;
DELETE FROM sqlite_stat4;
