ALTER TABLE search_tokens ALTER COLUMN code SET STATISTICS -1;
DROP STATISTICS search_tokens_codes;
ALTER TABLE search_tokens DROP CONSTRAINT search_tokens_pkey,
    ADD PRIMARY KEY (resource_type, param, code, system, resource_id);
