-- SQLite's FTS5 table changes its tokenizer (issue 10); PostgreSQL's term
-- arrays hold the terms as they are. The number is kept so both engines
-- share their versions.
SELECT 1;
