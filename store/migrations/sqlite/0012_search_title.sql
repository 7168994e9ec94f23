-- PostgreSQL's title terms in a narrow table of their own (issue 16);
-- SQLite's FTS5 table has its title column already. The number is kept so
-- both engines share their versions.
SELECT 1;
