-- Nothing to do: the statement journal the SQLite migration of the same name avoids is SQLite's.
-- PostgreSQL checks its foreign keys with triggers at the end of each statement, and its import
-- is bound by round trips (BENCHMARKS.md). Kept so that both backends run the same list.
SELECT 1;
