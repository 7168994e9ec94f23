-- Full-text search (issue 16).
--
-- item_search holds one row per ready post: a tsvector of its title terms
-- (weight A) and body terms (weight D), English and original, as
-- internal/fulltext computes them (stemmed English words, Han text as
-- overlapping character pairs); PostgreSQL's own parser and dictionaries
-- are not used, so a post matches the same queries as on SQLite. No
-- extension is needed.
--
-- search_queue lists the posts whose row must be (re)built. Triggers queue
-- a post when it is stored, when its text, translation or state changes;
-- the store rebuilds the queued rows in Go before every write transaction
-- commits. A deleted post (retention) leaves the index by the foreign key.
--
-- Existing posts are queued here and indexed in batches (one transaction
-- each) when the store opens.

-- title_tsv (the weight-A part) is small enough to stay in the row: the
-- title tier of a ranked search filters on it without reading the body's
-- TOASTed tsvector, and its own index serves rare title words.
CREATE TABLE item_search (
    item_id   BIGINT   PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    tsv       TSVECTOR NOT NULL,
    title_tsv TSVECTOR GENERATED ALWAYS AS (ts_filter(tsv, '{a}')) STORED
);
CREATE INDEX item_search_tsv ON item_search USING GIN (tsv);
CREATE INDEX item_search_title_tsv ON item_search USING GIN (title_tsv);

CREATE TABLE search_queue (
    item_id BIGINT PRIMARY KEY
);

INSERT INTO search_queue (item_id) SELECT id FROM items WHERE state = 'ready';

CREATE FUNCTION items_search_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM search_queue WHERE item_id = OLD.id;
        RETURN OLD;
    END IF;
    -- DO UPDATE (not DO NOTHING) locks a row already queued: a transaction
    -- indexing that row elsewhere (SKIP LOCKED) either finishes first (the
    -- row is then queued again) or skips it, so this transaction indexes
    -- its own version of the post and a stale one never wins.
    INSERT INTO search_queue (item_id) VALUES (NEW.id)
        ON CONFLICT (item_id) DO UPDATE SET item_id = EXCLUDED.item_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER items_search_insert AFTER INSERT ON items
    FOR EACH ROW EXECUTE FUNCTION items_search_queue();

CREATE TRIGGER items_search_update AFTER UPDATE ON items
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.title IS DISTINCT FROM NEW.title
       OR OLD.summary IS DISTINCT FROM NEW.summary OR OLD.content_html IS DISTINCT FROM NEW.content_html
       OR OLD.title_en IS DISTINCT FROM NEW.title_en OR OLD.summary_en IS DISTINCT FROM NEW.summary_en
       OR OLD.content_html_en IS DISTINCT FROM NEW.content_html_en
       OR OLD.translated_by IS DISTINCT FROM NEW.translated_by OR OLD.title_only IS DISTINCT FROM NEW.title_only
       OR OLD.untranslated IS DISTINCT FROM NEW.untranslated)
    EXECUTE FUNCTION items_search_queue();

CREATE TRIGGER items_search_delete AFTER DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION items_search_queue();

-- Keyset pages of ready posts (index, feeds, sources, archives) read the
-- ready partial indexes of migration 0006 in (published, id) order.
