-- Token rows keyed (type, param, code, resource, system): the rows of one code come in resource
-- order, so a page driven by one token value walks them in its own order and stops at
-- the page (db::sql::walk) instead of hashing every id of the code first.
ALTER TABLE search_tokens DROP CONSTRAINT search_tokens_pkey,
    ADD PRIMARY KEY (resource_type, param, code, resource_id, system);
-- Frequencies of (type, param, code) together: the planner otherwise multiplies those of each
-- column and takes a région's 6,500 `_tag` rows for 1,300, too few for a page of 200 to stop
-- early, and gathers them all. The larger sample finds the codes of every région and specialty.
CREATE STATISTICS search_tokens_codes (mcv) ON resource_type, param, code FROM search_tokens;
ALTER TABLE search_tokens ALTER COLUMN code SET STATISTICS 1000;
ANALYZE search_tokens;
