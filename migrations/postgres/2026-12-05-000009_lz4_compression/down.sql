DO $$
BEGIN
    EXECUTE 'ALTER TABLE locations ALTER COLUMN json_head SET COMPRESSION pglz, '
        'ALTER COLUMN json_tail SET COMPRESSION pglz, ALTER COLUMN figures_json SET COMPRESSION pglz';
    EXECUTE 'ALTER TABLE healthcare_services ALTER COLUMN resource_json SET COMPRESSION pglz';
    EXECUTE 'ALTER TABLE organizations ALTER COLUMN resource_json SET COMPRESSION pglz';
    EXECUTE 'ALTER TABLE capacities ALTER COLUMN extension_json SET COMPRESSION pglz, '
        'ALTER COLUMN observation_json SET COMPRESSION pglz';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'compression methods are not available (%): nothing to undo', SQLERRM;
END
$$;
