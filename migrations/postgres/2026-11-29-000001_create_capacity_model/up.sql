-- ROR capacity model (PostgreSQL). Instants are microseconds since the Unix epoch (UTC), as BIGINT,
-- so that ordering and range tests are exact and identical on both backends.
CREATE TABLE organizations (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    finess TEXT,
    name TEXT,
    part_of_id TEXT COLLATE "C",
    region TEXT,
    last_updated BIGINT NOT NULL,
    resource_json TEXT NOT NULL
);
CREATE INDEX organizations_last_updated ON organizations (last_updated, id);

CREATE TABLE locations (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    functional_id TEXT COLLATE "C",
    external_id TEXT COLLATE "C",
    name TEXT,
    name_norm TEXT COLLATE "C",
    status TEXT,
    operational_status TEXT,
    type_code TEXT,
    address_line TEXT,
    postal_code TEXT COLLATE "C",
    city TEXT,
    commune_insee TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    managing_org_id TEXT COLLATE "C",
    region TEXT,
    created_at BIGINT,
    last_updated BIGINT NOT NULL,
    -- The served JSON is json_head + the visible capacity extensions (comma-separated) + json_tail;
    -- with no visible figure it is json_head[..empty_head_len] + json_tail[empty_tail_skip..].
    -- So each place is stored once, and each consumer gets the figures its profile may see.
    json_head TEXT NOT NULL,
    json_tail TEXT NOT NULL,
    empty_head_len BIGINT NOT NULL,
    empty_tail_skip BIGINT NOT NULL
);
CREATE INDEX locations_last_updated ON locations (last_updated, id);
CREATE INDEX locations_postal_code ON locations (postal_code);
CREATE INDEX locations_name_norm ON locations (name_norm);
CREATE INDEX locations_status ON locations (status);

CREATE TABLE capacities (
    location_id TEXT COLLATE "C" NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    observation_id TEXT COLLATE "C" NOT NULL UNIQUE,
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
    extension_json TEXT NOT NULL,
    observation_json TEXT NOT NULL,
    PRIMARY KEY (location_id, seq)
);
CREATE INDEX capacities_last_updated ON capacities (last_updated, observation_id);
CREATE INDEX capacities_type_status ON capacities (capacity_status, capacity_type);

CREATE TABLE healthcare_services (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    identifier_value TEXT,
    name TEXT,
    type_code TEXT,
    category_code TEXT,
    specialty_code TEXT,
    sensitive_unit BOOLEAN NOT NULL DEFAULT FALSE,
    provided_by_id TEXT COLLATE "C",
    region TEXT,
    created_at BIGINT,
    last_updated BIGINT NOT NULL,
    resource_json TEXT NOT NULL
);
CREATE INDEX healthcare_services_last_updated ON healthcare_services (last_updated, id);
CREATE INDEX healthcare_services_provided_by ON healthcare_services (provided_by_id);

-- HealthcareService.location: the only link between offers and places (no foreign key on
-- location_id: a national export may reference a place before it arrives).
CREATE TABLE healthcare_service_locations (
    service_id TEXT COLLATE "C" NOT NULL REFERENCES healthcare_services (id) ON DELETE CASCADE,
    location_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (service_id, location_id)
);
CREATE INDEX healthcare_service_locations_location ON healthcare_service_locations (location_id, service_id);

-- Token index for identifier, _tag and type searches (system '' = no system).
CREATE TABLE search_tokens (
    resource_type TEXT COLLATE "C" NOT NULL,
    param TEXT COLLATE "C" NOT NULL,
    code TEXT COLLATE "C" NOT NULL,
    system TEXT COLLATE "C" NOT NULL,
    resource_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (resource_type, param, code, system, resource_id)
);
CREATE INDEX search_tokens_resource ON search_tokens (resource_type, resource_id);
