-- The search index's tokenizer becomes FTS5's ascii (issue 10).
--
-- items_fts is fed terms that internal/fulltext already cut, lower-cased
-- and joined by spaces; FTS5 only has to split them again. unicode61 did
-- that with a Unicode category lookup per character (about 9 % of the CPU
-- of a cold import, all of it inside the one write transaction); ascii
-- splits at ASCII spaces and punctuation only and keeps every other byte,
-- so each term fulltext made is exactly one FTS5 token (unicode61 could
-- still cut a term at a character it classes as a separator).
--
-- The table is rebuilt: every ready post is queued again and indexed in
-- batches, one transaction each, when the store opens (as 0007 did), so a
-- stop half-way loses nothing.

DROP TABLE items_fts;

CREATE VIRTUAL TABLE items_fts USING fts5(
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'ascii'
);

INSERT OR IGNORE INTO search_queue (item_id) SELECT id FROM items WHERE state = 'ready';
