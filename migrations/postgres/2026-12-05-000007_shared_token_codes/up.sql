-- The codes some resource holds in several systems of one parameter (an identifier value under
-- two systems, say). A page walked along a code without a system (db::sql::walk) probes for a
-- smaller system only for these codes; for the others each resource has one row of the code.
-- The import adds to it; a code stays listed when its resources change (a probe in vain).
CREATE TABLE search_tokens_shared (
    resource_type TEXT NOT NULL,
    param TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (resource_type, param, code)
);
INSERT INTO search_tokens_shared (resource_type, param, code)
    SELECT DISTINCT resource_type, param, code FROM search_tokens
    GROUP BY resource_type, param, code, resource_id HAVING COUNT(*) > 1;
