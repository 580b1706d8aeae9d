-- PostgreSQL only: its stored JSON is compressed with LZ4 from this version (see the PostgreSQL
-- migration of the same name). SQLite stores it as written.
SELECT 1;
