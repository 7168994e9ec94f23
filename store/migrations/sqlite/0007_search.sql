-- Full-text search (issue 16).
--
-- items_fts holds one row per ready post (rowid = items.id): its title terms
-- and body terms, English and original, as internal/fulltext computes them
-- (stemmed English words, Han text as overlapping character pairs). The
-- table is contentless: it keeps the index only, never a copy of the text.
-- The tokenizer only splits the space-separated terms again.
--
-- search_queue lists the posts whose index row must be (re)built. Triggers
-- queue a post when it is stored, when its text, translation or state
-- changes; the store rebuilds the queued rows in Go before every write
-- transaction commits, so a post is found by its new text as soon as the
-- change is visible. A deleted post (retention) leaves the index in the
-- same statement.
--
-- Existing posts are queued here and indexed in batches (one transaction
-- each) when the store opens.

CREATE VIRTUAL TABLE items_fts USING fts5(
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE search_queue (
    item_id INTEGER PRIMARY KEY
);

INSERT INTO search_queue (item_id) SELECT id FROM items WHERE state = 'ready';

CREATE TRIGGER items_search_insert AFTER INSERT ON items
BEGIN
    INSERT OR IGNORE INTO search_queue (item_id) VALUES (NEW.id);
END;

CREATE TRIGGER items_search_update AFTER UPDATE ON items
WHEN OLD.state IS NOT NEW.state OR OLD.title IS NOT NEW.title OR OLD.summary IS NOT NEW.summary
  OR OLD.content_html IS NOT NEW.content_html OR OLD.title_en IS NOT NEW.title_en
  OR OLD.summary_en IS NOT NEW.summary_en OR OLD.content_html_en IS NOT NEW.content_html_en
  OR OLD.translated_by IS NOT NEW.translated_by OR OLD.title_only IS NOT NEW.title_only
  OR OLD.untranslated IS NOT NEW.untranslated
BEGIN
    INSERT OR IGNORE INTO search_queue (item_id) VALUES (NEW.id);
END;

CREATE TRIGGER items_search_delete AFTER DELETE ON items
BEGIN
    DELETE FROM items_fts WHERE rowid = OLD.id;
    DELETE FROM search_queue WHERE item_id = OLD.id;
END;

-- Keyset pages of ready posts (index, feeds, sources, archives) read the
-- ready partial indexes of migration 0006 in (published, id) order.
