-- Review and correction (issue 14): admin sessions shared by every
-- instance, the login rate limit, the audit log, human translations that
-- win over any provider's, the correction history shown on the reading
-- site, and the glossary entries added from the admin pages (merged with
-- the read-only YAML glossary). Times are BIGINT unix milliseconds UTC.

CREATE TABLE admin_sessions (
    token_hash   TEXT    PRIMARY KEY,   -- sha256 of the cookie value: the database never holds a usable token
    csrf         TEXT    NOT NULL,
    client       TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

CREATE TABLE admin_login_failures (
    client       TEXT    PRIMARY KEY,   -- remote address (IP) of the login attempts
    failures     BIGINT  NOT NULL DEFAULT 0,
    window_start BIGINT  NOT NULL,
    locked_until BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE admin_audit (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT  NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    item_id  BIGINT  NOT NULL DEFAULT 0, -- 0: not about one post
    detail   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX admin_audit_item ON admin_audit (item_id, id);

CREATE TABLE human_tm (
    key        TEXT    PRIMARY KEY,     -- hash of languages, format and text: no provider, so it wins for all
    source     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    editor     TEXT    NOT NULL DEFAULT '',
    updated_at BIGINT  NOT NULL
);

CREATE TABLE corrections (
    id       BIGSERIAL PRIMARY KEY,
    item_id  BIGINT  NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    field    TEXT    NOT NULL CHECK (field IN ('title', 'summary', 'content')),
    block    BIGINT  NOT NULL DEFAULT 0,
    source   TEXT    NOT NULL,
    old_en   TEXT    NOT NULL,
    new_en   TEXT    NOT NULL,
    editor   TEXT    NOT NULL DEFAULT '',
    at       BIGINT  NOT NULL
);
CREATE INDEX corrections_item ON corrections (item_id, id);

CREATE TABLE glossary_entries (
    source     TEXT    PRIMARY KEY,
    target     TEXT    NOT NULL,
    added_by   TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);

-- Edit in place: one row per sent Telegram message whose post's English
-- changed since it was sent (a correction, a retranslation, a source edit),
-- due for editMessageText / editMessageCaption. Written in the transaction
-- that changes the English.
CREATE TABLE delivery_edits (
    delivery_id BIGINT  PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    due_at      BIGINT  NOT NULL,
    attempts    BIGINT  NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    lease_owner TEXT    NOT NULL DEFAULT '',
    lease_until BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX delivery_edits_due ON delivery_edits (due_at, delivery_id);

-- Review queue (telegram.channels[].review): the channels whose posts wait
-- for an admin (synced from the config at start), and one row per held
-- delivery. A held delivery is pending with next_attempt_at far in the
-- future, so the outbox never offers it; approving makes it due now (the
-- normal outbox sends it), skipping fails it for good. The answer is one
-- conditional UPDATE: among instances and double clicks, one answer wins.
CREATE TABLE review_channels (
    channel TEXT PRIMARY KEY
);

CREATE TABLE reviews (
    delivery_id BIGINT PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    item_id     BIGINT NOT NULL,
    channel     TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('waiting', 'approved', 'skipped')),
    created_at  BIGINT NOT NULL,
    prompted_at BIGINT NOT NULL DEFAULT 0,
    answered_at BIGINT NOT NULL DEFAULT 0,
    answered_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX reviews_state ON reviews (state, prompted_at, created_at);
