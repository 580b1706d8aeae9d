-- Token rows keyed (type, param, code, resource, system): the rows of one code come in resource
-- order, so a page driven by one token value walks them in its own order and stops at the page
-- (db::sql::walk) instead of first gathering every id of the code (a région's `_tag`: 6,000 to
-- 22,000 ids at 120k places). A rowid table, as before: the walk's check for a resource's row of
-- another system then reads the key's index, next to the row it checks (WITHOUT ROWID, the other
-- index carries the whole key and the planner reads that one instead, a page per row).
CREATE TABLE search_tokens_by_resource (
    resource_type TEXT NOT NULL,
    param TEXT NOT NULL,
    code TEXT NOT NULL,
    system TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    PRIMARY KEY (resource_type, param, code, resource_id, system)
);
INSERT INTO search_tokens_by_resource (resource_type, param, code, system, resource_id)
    SELECT resource_type, param, code, system, resource_id FROM search_tokens;
DROP TABLE search_tokens;
ALTER TABLE search_tokens_by_resource RENAME TO search_tokens;
CREATE INDEX search_tokens_resource ON search_tokens (resource_type, resource_id);
-- The planner's statistics of the new table (the import's ANALYZE keeps sqlite_stat1 only).
ANALYZE search_tokens;
DELETE FROM sqlite_stat4 WHERE tbl = 'search_tokens';
