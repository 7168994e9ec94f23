-- Search reads (issue 16) are never run in parallel: a search fetches a page
-- of ids, a millisecond of work, and starting parallel workers for the GIN
-- read of a term the statistics do not know (estimated at 0.5 % of the
-- posts) cost ten times that.
ALTER TABLE item_search SET (parallel_workers = 0);
