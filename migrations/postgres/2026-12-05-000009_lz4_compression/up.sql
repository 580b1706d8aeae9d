-- The served JSON (a place's head, tail and capacity extensions; offers and organisations) is
-- stored compressed in its row (a place's ~8.6 kB of text in ~2.3 kB): every page of a search
-- decompresses what it sends. LZ4 decompresses several times faster than PostgreSQL's own pglz
-- (S3, S4, S5 and the regulator's query at 12k places, each freshly imported: 3-6% lower p50 on
-- the same build, BENCHMARKS.md), for 2% more space. Rows written from now on are compressed with LZ4; rows already stored keep
-- pglz until an import rewrites them (rewriting them here would hold the server's start for as
-- long as a full import). Where the server was built without LZ4, nothing changes and this
-- notice says so.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE locations ALTER COLUMN json_head SET COMPRESSION lz4, '
        'ALTER COLUMN json_tail SET COMPRESSION lz4, ALTER COLUMN figures_json SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE healthcare_services ALTER COLUMN resource_json SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE organizations ALTER COLUMN resource_json SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE capacities ALTER COLUMN extension_json SET COMPRESSION lz4, '
        'ALTER COLUMN observation_json SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'LZ4 compression is not available (%): stored JSON stays compressed with pglz', SQLERRM;
END
$$;
