-- A post whose source gives no date keeps it unknown: date_unknown = 1 and
-- published holds its first-seen time, so that every published-ordered
-- query (and its index) sorts it by first-seen. Readers get a zero
-- Published and DateUnknown. meta is the government document metadata of
-- the article page (索引号, 发文字号, 成文日期, …) as a JSON object, '' when none.
ALTER TABLE items ADD COLUMN date_unknown INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN meta TEXT NOT NULL DEFAULT '';

-- Per-source counters for /status: polls, article pages fetched for full
-- text and how many of those failed, with the last failure and its reason.
ALTER TABLE sources ADD COLUMN polls BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN article_fetches BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN article_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN last_article_error TEXT NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN last_article_error_at BIGINT NOT NULL DEFAULT 0;
