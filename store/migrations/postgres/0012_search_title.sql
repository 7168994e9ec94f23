-- Title terms in a narrow table of their own (issue 16).
--
-- A ranked search reads the posts with every word in the title first,
-- newest first. With the title terms kept in item_search.terms (as negated
-- ids, 0010), that walk read the whole wide row (about 200 term ids) of
-- every post it passed: for a word in 1-3 % of the titles, about 2,800
-- rows and 2,500 buffers at 1,000,000 posts (4-10 ms alone, 30-60 ms p99
-- with 8 searchers). item_search_title holds only a post's id and the ids
-- of its title's terms (about 20): the same walk reads about 70 buffers.
--
-- item_search.terms keeps the terms of the title and body (positive ids
-- only); item_search_title.terms the title's. Both have a GIN index
-- (fastupdate off: a search never scans a pending list), both are written
-- together for every ready post, and a post that is not ready has neither.
--
-- Existing rows are converted here, in SQL (no post is read again): at
-- 1,000,000 posts about two minutes (measured: BENCHMARKS.md). item_search is rebuilt as a new
-- table rather than updated in place, which would leave it twice its size.

SET LOCAL maintenance_work_mem = '256MB';

CREATE TABLE item_search_title (
    item_id BIGINT PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    terms   INT4[] NOT NULL
);
INSERT INTO item_search_title (item_id, terms)
    SELECT item_id, ARRAY(SELECT -t FROM unnest(terms) t WHERE t < 0 ORDER BY 1) FROM item_search ORDER BY item_id;

CREATE TABLE item_search_next (
    item_id BIGINT PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    terms   INT4[] NOT NULL
);
INSERT INTO item_search_next (item_id, terms)
    SELECT item_id, ARRAY(SELECT t FROM unnest(terms) t WHERE t > 0 ORDER BY 1) FROM item_search ORDER BY item_id;
DROP TABLE item_search;
ALTER TABLE item_search_next RENAME TO item_search;
ALTER INDEX item_search_next_pkey RENAME TO item_search_pkey;
ALTER TABLE item_search RENAME CONSTRAINT item_search_next_item_id_fkey TO item_search_item_id_fkey;

-- search_terms.in_title: some title has held the term (set on write, never
-- cleared). A query term no title ever held makes "in the title" false
-- without reading item_search_title (a number, a word of bodies only).
ALTER TABLE search_terms ADD COLUMN in_title BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE search_terms SET in_title = TRUE WHERE id IN (SELECT DISTINCT unnest(terms) FROM item_search_title);

CREATE INDEX item_search_terms ON item_search USING GIN (terms) WITH (fastupdate = off);
CREATE INDEX item_search_title_terms ON item_search_title USING GIN (terms) WITH (fastupdate = off);
-- Never read in parallel (0011).
ALTER TABLE item_search SET (parallel_workers = 0);
ALTER TABLE item_search_title SET (parallel_workers = 0);
ANALYZE item_search;
ANALYZE item_search_title;
