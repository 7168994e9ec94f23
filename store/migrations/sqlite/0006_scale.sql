-- Costs flat in the number of stored posts (issue 10). Reserved number 0004;
-- 0006 here because main has 0004 (list_shape) and 0005 (pages); renumber at merge if needed.
--
-- source_stats: per-source counters kept on write by triggers on items, so
-- nothing counts over items on read: item_count and ready_count, and
-- version, bumped by every change that can alter a feed of ready posts
-- (a post becomes ready, a ready post changes, leaves the ready state or is
-- deleted). A feed's version is the sum of its sources' versions: it only
-- grows, so it changes on every such write. changed_at is the latest
-- ready_at/updated_at of such a change (Last-Modified).
--
-- source_hours: per-source, per-hour (first_seen / 3,600,000) post counters, so
-- "posts of the last 24 h" sums at most 25 rows; buckets more than 48 h older
-- than the newest post are pruned by the insert trigger.
--
-- delivery_counts: per-channel pending/sent/failed counters, kept by
-- triggers on deliveries (/status reads them instead of grouping).
--
-- Partial indexes match the hot queries: the feeds (ready posts, newest
-- first, all sources or one), the claims (new posts oldest first; due
-- retries by their time), the translation backlog.

CREATE TABLE source_stats (
    source_id   TEXT    PRIMARY KEY,
    item_count  INTEGER NOT NULL DEFAULT 0,
    ready_count INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 0,
    changed_at  INTEGER NOT NULL DEFAULT 0
);

INSERT INTO source_stats (source_id, item_count, ready_count, version, changed_at)
SELECT source_id, COUNT(*), SUM(state = 'ready'), COUNT(*),
       COALESCE(MAX(CASE WHEN state = 'ready' AND ready_at > updated_at THEN ready_at ELSE updated_at END), 0)
FROM items GROUP BY source_id;

CREATE TABLE source_hours (
    source_id TEXT    NOT NULL,
    hour      INTEGER NOT NULL,
    n         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, hour)
) WITHOUT ROWID;

INSERT INTO source_hours (source_id, hour, n)
SELECT source_id, first_seen / 3600000, COUNT(*) FROM items
WHERE first_seen >= (CAST(strftime('%s', 'now') AS INTEGER) - 2 * 86400) * 1000
GROUP BY source_id, first_seen / 3600000;

CREATE TRIGGER items_stats_insert AFTER INSERT ON items
BEGIN
    INSERT OR IGNORE INTO source_hours (source_id, hour) VALUES (NEW.source_id, NEW.first_seen / 3600000);
    UPDATE source_hours SET n = n + 1 WHERE source_id = NEW.source_id AND hour = NEW.first_seen / 3600000;
    DELETE FROM source_hours WHERE source_id = NEW.source_id AND hour < NEW.first_seen / 3600000 - 48;
    INSERT OR IGNORE INTO source_stats (source_id) VALUES (NEW.source_id);
    UPDATE source_stats SET
        item_count  = item_count + 1,
        ready_count = ready_count + (NEW.state = 'ready'),
        version     = version + (NEW.state = 'ready'),
        changed_at  = CASE WHEN NEW.state = 'ready' THEN MAX(changed_at, NEW.ready_at, NEW.updated_at) ELSE changed_at END
    WHERE source_id = NEW.source_id;
END;

CREATE TRIGGER items_stats_update AFTER UPDATE OF state, ready_at, updated_at ON items
WHEN (OLD.state = 'ready' OR NEW.state = 'ready')
 AND (OLD.state <> NEW.state OR OLD.ready_at <> NEW.ready_at OR OLD.updated_at <> NEW.updated_at)
BEGIN
    INSERT OR IGNORE INTO source_stats (source_id) VALUES (NEW.source_id);
    UPDATE source_stats SET
        ready_count = ready_count + (NEW.state = 'ready') - (OLD.state = 'ready'),
        version     = version + 1,
        changed_at  = MAX(changed_at, NEW.ready_at, NEW.updated_at)
    WHERE source_id = NEW.source_id;
END;

CREATE TRIGGER items_stats_delete AFTER DELETE ON items
BEGIN
    UPDATE source_hours SET n = n - 1 WHERE source_id = OLD.source_id AND hour = OLD.first_seen / 3600000;
    UPDATE source_stats SET
        item_count  = item_count - 1,
        ready_count = ready_count - (OLD.state = 'ready'),
        version     = version + (OLD.state = 'ready')
    WHERE source_id = OLD.source_id;
END;

CREATE TABLE delivery_counts (
    channel TEXT    PRIMARY KEY,
    pending INTEGER NOT NULL DEFAULT 0,
    sent    INTEGER NOT NULL DEFAULT 0,
    failed  INTEGER NOT NULL DEFAULT 0
);

INSERT INTO delivery_counts (channel, pending, sent, failed)
SELECT channel, SUM(state = 'pending'), SUM(state = 'sent'), SUM(state = 'failed')
FROM deliveries GROUP BY channel;

CREATE TRIGGER deliveries_counts_insert AFTER INSERT ON deliveries
BEGIN
    INSERT OR IGNORE INTO delivery_counts (channel) VALUES (NEW.channel);
    UPDATE delivery_counts SET
        pending = pending + (NEW.state = 'pending'),
        sent    = sent + (NEW.state = 'sent'),
        failed  = failed + (NEW.state = 'failed')
    WHERE channel = NEW.channel;
END;

CREATE TRIGGER deliveries_counts_update AFTER UPDATE OF state ON deliveries
WHEN OLD.state <> NEW.state
BEGIN
    UPDATE delivery_counts SET
        pending = pending + (NEW.state = 'pending') - (OLD.state = 'pending'),
        sent    = sent + (NEW.state = 'sent') - (OLD.state = 'sent'),
        failed  = failed + (NEW.state = 'failed') - (OLD.state = 'failed')
    WHERE channel = NEW.channel;
END;

CREATE TRIGGER deliveries_counts_delete AFTER DELETE ON deliveries
BEGIN
    UPDATE delivery_counts SET
        pending = pending - (OLD.state = 'pending'),
        sent    = sent - (OLD.state = 'sent'),
        failed  = failed - (OLD.state = 'failed')
    WHERE channel = OLD.channel;
END;

CREATE INDEX items_ready_published ON items (published DESC, id DESC) WHERE state = 'ready';
CREATE INDEX items_ready_source_published ON items (source_id, published DESC, id DESC) WHERE state = 'ready';
CREATE INDEX items_new_first_seen ON items (first_seen, id) WHERE state = 'new';
CREATE INDEX items_retry_due ON items (next_attempt_at, id) WHERE state = 'translating';
DROP INDEX items_state_first_seen;
