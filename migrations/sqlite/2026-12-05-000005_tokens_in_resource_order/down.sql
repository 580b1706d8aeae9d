CREATE TABLE search_tokens_by_code (
    resource_type TEXT NOT NULL,
    param TEXT NOT NULL,
    code TEXT NOT NULL,
    system TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    PRIMARY KEY (resource_type, param, code, system, resource_id)
);
INSERT INTO search_tokens_by_code (resource_type, param, code, system, resource_id)
    SELECT resource_type, param, code, system, resource_id FROM search_tokens;
DROP TABLE search_tokens;
ALTER TABLE search_tokens_by_code RENAME TO search_tokens;
CREATE INDEX search_tokens_resource ON search_tokens (resource_type, resource_id);
