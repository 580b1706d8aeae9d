-- The import now queues the text rows of the places and offers it inserts and deletes itself
-- (db::write::text): a statement that fires a trigger keeps a statement journal, a copy of every
-- page it first changes (a few percent of a national import on its own). Updates of the indexed
-- columns stay queued by their triggers.
DROP TRIGGER location_text_insert;
DROP TRIGGER location_text_delete;
DROP TRIGGER service_text_insert;
DROP TRIGGER service_text_delete;
