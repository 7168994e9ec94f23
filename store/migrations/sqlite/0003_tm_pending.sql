-- Translation-memory reservations (TMReserve): the instance translating a
-- segment that is not in the memory yet holds its key until lease_until, so
-- another instance needing the same segment at the same time waits for the
-- memory entry instead of paying for the segment again. TMPut deletes the
-- rows of the keys it stores; TMRelease deletes an owner's rows; an expired
-- row (a crashed instance) is taken over by the next reservation.

CREATE TABLE tm_pending (
    key         TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL,
    lease_until INTEGER NOT NULL
);
