-- Summaries written by the summarizer for Telegram channels with
-- summary: llm. One row per post and content hash: a post whose text has
-- not changed is never summarised twice, across restarts and instances.
-- A summary that failed its checks is kept too (summary '' and the reason
-- in rejected), so that it is not paid for again either; the lead is sent.
CREATE TABLE summaries (
    item_id      INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    content_hash TEXT    NOT NULL,
    summarizer   TEXT    NOT NULL,
    summary      TEXT    NOT NULL DEFAULT '',
    rejected     TEXT    NOT NULL DEFAULT '',
    chars        INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (item_id, content_hash)
);

-- What the original has that Telegram is not sent (video or audio, which
-- the sanitiser removes from the body): its message links to the original,
-- labelled.
ALTER TABLE items ADD COLUMN media TEXT NOT NULL DEFAULT '';
