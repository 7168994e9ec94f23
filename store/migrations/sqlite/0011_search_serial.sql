-- PostgreSQL's search table is never scanned in parallel (issue 16); SQLite
-- has nothing to change. The number is kept so both engines share their
-- versions.
SELECT 1;
