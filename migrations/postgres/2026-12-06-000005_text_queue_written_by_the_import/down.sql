-- Nothing to do: PostgreSQL indexes the text columns itself (the SQLite migration of the same
-- name moves the queue of its FTS5 tables from triggers to the import). Kept so that both
-- backends run the same list of migrations.
SELECT 1;
