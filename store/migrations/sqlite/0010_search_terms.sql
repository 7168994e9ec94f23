-- Search index without positions (issue 16) is PostgreSQL's change: SQLite
-- keeps 0007's contentless FTS5 table (36 % of the rest of the database at
-- 100,000 posts). The number is kept so both engines share their versions.
SELECT 1;
