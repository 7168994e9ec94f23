-- Costs flat in the number of stored posts (issue 10). Reserved number 0004;
-- 0006 here because main has 0004 (list_shape) and 0005 (pages); renumber at
-- merge if needed. Same design as the SQLite migration: per-source counters and feed version (source_stats),
-- per-source hourly post counters (source_hours), per-channel delivery
-- counters (delivery_counts), all kept by triggers, and partial indexes
-- matching the hot queries.
--
-- Lock order: a transaction that changes several items of one source (a
-- poll, a retention batch) and one that changes one item (MarkReady) both
-- lock the source's source_stats row first (the store does it explicitly
-- before touching items), so they never deadlock over it.

CREATE TABLE source_stats (
    source_id   TEXT   PRIMARY KEY,
    item_count  BIGINT NOT NULL DEFAULT 0,
    ready_count BIGINT NOT NULL DEFAULT 0,
    version     BIGINT NOT NULL DEFAULT 0,
    changed_at  BIGINT NOT NULL DEFAULT 0
);

INSERT INTO source_stats (source_id, item_count, ready_count, version, changed_at)
SELECT source_id, COUNT(*), COUNT(*) FILTER (WHERE state = 'ready'), COUNT(*),
       COALESCE(MAX(CASE WHEN state = 'ready' AND ready_at > updated_at THEN ready_at ELSE updated_at END), 0)
FROM items GROUP BY source_id;

CREATE TABLE source_hours (
    source_id TEXT   NOT NULL,
    hour      BIGINT NOT NULL,
    n         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, hour)
);

INSERT INTO source_hours (source_id, hour, n)
SELECT source_id, first_seen / 3600000, COUNT(*) FROM items
WHERE first_seen >= (EXTRACT(EPOCH FROM now())::BIGINT - 2 * 86400) * 1000
GROUP BY source_id, first_seen / 3600000;

CREATE FUNCTION transfeed_items_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO source_hours AS h (source_id, hour, n) VALUES (NEW.source_id, NEW.first_seen / 3600000, 1)
        ON CONFLICT (source_id, hour) DO UPDATE SET n = h.n + 1;
        DELETE FROM source_hours WHERE source_id = NEW.source_id AND hour < NEW.first_seen / 3600000 - 48;
        INSERT INTO source_stats AS s (source_id, item_count, ready_count, version, changed_at)
        VALUES (NEW.source_id, 1,
                CASE WHEN NEW.state = 'ready' THEN 1 ELSE 0 END,
                CASE WHEN NEW.state = 'ready' THEN 1 ELSE 0 END,
                CASE WHEN NEW.state = 'ready' THEN GREATEST(NEW.ready_at, NEW.updated_at) ELSE 0 END)
        ON CONFLICT (source_id) DO UPDATE SET
            item_count  = s.item_count + 1,
            ready_count = s.ready_count + EXCLUDED.ready_count,
            version     = s.version + EXCLUDED.version,
            changed_at  = GREATEST(s.changed_at, EXCLUDED.changed_at);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO source_stats AS s (source_id, ready_count, version, changed_at)
        VALUES (NEW.source_id,
                (CASE WHEN NEW.state = 'ready' THEN 1 ELSE 0 END) - (CASE WHEN OLD.state = 'ready' THEN 1 ELSE 0 END),
                1, GREATEST(NEW.ready_at, NEW.updated_at))
        ON CONFLICT (source_id) DO UPDATE SET
            ready_count = s.ready_count + EXCLUDED.ready_count,
            version     = s.version + 1,
            changed_at  = GREATEST(s.changed_at, EXCLUDED.changed_at);
    ELSE
        UPDATE source_hours SET n = n - 1 WHERE source_id = OLD.source_id AND hour = OLD.first_seen / 3600000;
        UPDATE source_stats SET
            item_count  = item_count - 1,
            ready_count = ready_count - (CASE WHEN OLD.state = 'ready' THEN 1 ELSE 0 END),
            version     = version + (CASE WHEN OLD.state = 'ready' THEN 1 ELSE 0 END)
        WHERE source_id = OLD.source_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER items_stats_insert AFTER INSERT ON items
    FOR EACH ROW EXECUTE FUNCTION transfeed_items_stats();
CREATE TRIGGER items_stats_update AFTER UPDATE OF state, ready_at, updated_at ON items
    FOR EACH ROW
    WHEN ((OLD.state = 'ready' OR NEW.state = 'ready')
      AND (OLD.state <> NEW.state OR OLD.ready_at <> NEW.ready_at OR OLD.updated_at <> NEW.updated_at))
    EXECUTE FUNCTION transfeed_items_stats();
CREATE TRIGGER items_stats_delete AFTER DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION transfeed_items_stats();

CREATE TABLE delivery_counts (
    channel TEXT   PRIMARY KEY,
    pending BIGINT NOT NULL DEFAULT 0,
    sent    BIGINT NOT NULL DEFAULT 0,
    failed  BIGINT NOT NULL DEFAULT 0
);

INSERT INTO delivery_counts (channel, pending, sent, failed)
SELECT channel, COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'sent'),
       COUNT(*) FILTER (WHERE state = 'failed')
FROM deliveries GROUP BY channel;

CREATE FUNCTION transfeed_delivery_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    dp BIGINT := 0;
    ds BIGINT := 0;
    df BIGINT := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        dp := dp + CASE WHEN NEW.state = 'pending' THEN 1 ELSE 0 END;
        ds := ds + CASE WHEN NEW.state = 'sent' THEN 1 ELSE 0 END;
        df := df + CASE WHEN NEW.state = 'failed' THEN 1 ELSE 0 END;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        dp := dp - CASE WHEN OLD.state = 'pending' THEN 1 ELSE 0 END;
        ds := ds - CASE WHEN OLD.state = 'sent' THEN 1 ELSE 0 END;
        df := df - CASE WHEN OLD.state = 'failed' THEN 1 ELSE 0 END;
    END IF;
    INSERT INTO delivery_counts AS c (channel, pending, sent, failed)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.channel ELSE NEW.channel END, dp, ds, df)
    ON CONFLICT (channel) DO UPDATE SET
        pending = c.pending + EXCLUDED.pending,
        sent    = c.sent + EXCLUDED.sent,
        failed  = c.failed + EXCLUDED.failed;
    RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_counts_insert AFTER INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION transfeed_delivery_counts();
CREATE TRIGGER deliveries_counts_update AFTER UPDATE OF state ON deliveries
    FOR EACH ROW WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION transfeed_delivery_counts();
CREATE TRIGGER deliveries_counts_delete AFTER DELETE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION transfeed_delivery_counts();

CREATE INDEX items_ready_published ON items (published DESC, id DESC) WHERE state = 'ready';
CREATE INDEX items_ready_source_published ON items (source_id, published DESC, id DESC) WHERE state = 'ready';
CREATE INDEX items_new_first_seen ON items (first_seen, id) WHERE state = 'new';
CREATE INDEX items_retry_due ON items (next_attempt_at, id) WHERE state = 'translating';
DROP INDEX items_state_first_seen;
