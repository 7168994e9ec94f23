-- transfeed schema, PostgreSQL. Times are BIGINT unix milliseconds UTC (0 = unset), as on SQLite.
-- Booleans are BOOLEAN. Append-only: never edit an applied migration.

CREATE TABLE sources (
    id                 TEXT    PRIMARY KEY,
    url                TEXT    NOT NULL DEFAULT '',
    etag               TEXT    NOT NULL DEFAULT '',
    last_modified      TEXT    NOT NULL DEFAULT '',
    last_poll_at       BIGINT  NOT NULL DEFAULT 0,
    last_status        TEXT    NOT NULL DEFAULT '',
    last_error         TEXT    NOT NULL DEFAULT '',
    last_success_at    BIGINT  NOT NULL DEFAULT 0,
    next_poll_at       BIGINT  NOT NULL DEFAULT 0,
    consecutive_errors BIGINT  NOT NULL DEFAULT 0,
    failing_since      BIGINT  NOT NULL DEFAULT 0,
    alerted_at         BIGINT  NOT NULL DEFAULT 0,
    last_item_count    BIGINT  NOT NULL DEFAULT 0,
    polled_once        BOOLEAN NOT NULL DEFAULT FALSE,
    lease_owner        TEXT    NOT NULL DEFAULT '',
    lease_until        BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE items (
    id              BIGSERIAL PRIMARY KEY,
    source_id       TEXT    NOT NULL,
    key             TEXT    NOT NULL,
    guid            TEXT    NOT NULL DEFAULT '',
    link            TEXT    NOT NULL DEFAULT '',
    title           TEXT    NOT NULL DEFAULT '',
    summary         TEXT    NOT NULL DEFAULT '',
    content_html    TEXT    NOT NULL DEFAULT '',
    author          TEXT    NOT NULL DEFAULT '',
    language        TEXT    NOT NULL DEFAULT '',
    image_url       TEXT    NOT NULL DEFAULT '',
    categories      TEXT    NOT NULL DEFAULT '[]',
    published       BIGINT  NOT NULL,
    first_seen      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    content_hash    TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL CHECK (state IN ('new', 'translating', 'ready')),
    backfill_rank   BIGINT  NOT NULL DEFAULT -1,
    title_en        TEXT    NOT NULL DEFAULT '',
    summary_en      TEXT    NOT NULL DEFAULT '',
    content_html_en TEXT    NOT NULL DEFAULT '',
    translated_by   TEXT    NOT NULL DEFAULT '',
    translated_at   BIGINT  NOT NULL DEFAULT 0,
    title_only      BOOLEAN NOT NULL DEFAULT FALSE,
    untranslated    BOOLEAN NOT NULL DEFAULT FALSE,
    translate_err   TEXT    NOT NULL DEFAULT '',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL DEFAULT 0,
    ready_at        BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (source_id, key)
);
CREATE INDEX items_published ON items (published DESC, id DESC);
CREATE INDEX items_source_published ON items (source_id, published DESC, id DESC);
CREATE INDEX items_source_first_seen ON items (source_id, first_seen);
CREATE INDEX items_state_first_seen ON items (state, first_seen, id);

CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
    item_id         BIGINT  NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL DEFAULT 0,
    message_id      BIGINT  NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (item_id, channel)
);
CREATE INDEX deliveries_state_created ON deliveries (state, created_at, id);
CREATE INDEX deliveries_channel_state ON deliveries (channel, state);

CREATE TABLE channel_state (
    channel      TEXT    PRIMARY KEY,
    chat_id      TEXT    NOT NULL DEFAULT '',
    paused       BOOLEAN NOT NULL DEFAULT FALSE,
    paused_until BIGINT  NOT NULL DEFAULT 0,
    reason       TEXT    NOT NULL DEFAULT '',
    alerted_at   BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE provider_state (
    provider     TEXT    PRIMARY KEY,
    paused_until BIGINT  NOT NULL DEFAULT 0,
    reason       TEXT    NOT NULL DEFAULT '',
    alerted_at   BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE translation_memory (
    key      TEXT PRIMARY KEY,
    provider TEXT NOT NULL DEFAULT '',
    source   TEXT NOT NULL,
    target   TEXT NOT NULL
);

CREATE TABLE translation_usage (
    day      TEXT    NOT NULL,
    provider TEXT    NOT NULL,
    chars    BIGINT  NOT NULL DEFAULT 0,
    requests BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
