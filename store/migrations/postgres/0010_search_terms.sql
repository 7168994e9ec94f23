-- Search index without positions (issue 16): a vocabulary and term ids.
--
-- 0007's tsvectors kept every term's positions; at 100,000 posts they were
-- TOASTed, incompressible and 160 % of the rest of the database. Now:
--
-- search_terms is the vocabulary: one row per term internal/fulltext ever
-- indexed (stemmed English words, Han character pairs), numbered. A term
-- is never removed: one that no post holds any more costs its row only.
--
-- item_search.terms is the sorted set of a ready post's term ids: every
-- term of its title and body as its id, and every term of its title once
-- more as the negated id, so "all of these in the title" is terms @> the
-- negated ids. One GIN index serves both; fastupdate is off so that a
-- search never scans a pending list.
--
-- Phrases (quoted, Han words of three or more characters, glossary terms of
-- several words) are checked by the store on the candidate posts, from
-- their text (fulltext.Document.Match), the way SQLite's FTS5 checks them.
--
-- Existing posts are queued again and indexed in batches (one transaction
-- each) when the store opens, as in 0007.

CREATE TABLE search_terms (
    id   SERIAL PRIMARY KEY,
    term TEXT COLLATE "C" NOT NULL UNIQUE
);

DROP TABLE item_search;

CREATE TABLE item_search (
    item_id BIGINT  PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    terms   INT4[]  NOT NULL
);
CREATE INDEX item_search_terms ON item_search USING GIN (terms) WITH (fastupdate = off);

INSERT INTO search_queue (item_id) SELECT id FROM items WHERE state = 'ready'
    ON CONFLICT (item_id) DO NOTHING;
