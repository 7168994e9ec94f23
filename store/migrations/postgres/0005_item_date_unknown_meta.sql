-- A post whose source gives no date keeps it unknown: date_unknown = TRUE and
-- published holds its first-seen time, so that every published-ordered
-- query (and its index) sorts it by first-seen. Readers get a zero
-- Published and DateUnknown. meta is the government document metadata of
-- the article page (索引号, 发文字号, 成文日期, …) as a JSON object, '' when none.
ALTER TABLE items ADD COLUMN date_unknown BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE items ADD COLUMN meta TEXT NOT NULL DEFAULT '';
