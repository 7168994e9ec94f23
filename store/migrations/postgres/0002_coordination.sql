-- Coordination between instances sharing one database.
-- chat_pacing: the earliest time the next message may go to a Telegram chat
-- (ReserveSend), so per-chat pacing holds across instances.
-- leases: named leader leases (ClaimLeader), e.g. the one admin long-poller.

CREATE TABLE chat_pacing (
    channel      TEXT    PRIMARY KEY,
    next_send_at BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE leases (
    name        TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL DEFAULT '',
    lease_until BIGINT  NOT NULL DEFAULT 0
);
