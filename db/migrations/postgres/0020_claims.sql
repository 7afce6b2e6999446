-- Several processes drain one inbox and one notification outbox: a node
-- claims a batch of rows with a lease (claimed_by, claimed_until in Unix
-- milliseconds) and may store or delete only rows it still holds. A lease
-- ends on its own, so a killed node's rows go to another node after it.
-- claimed_until 0 is "never claimed": every lease ends after it.
ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
ALTER TABLE inbox ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
-- The payload's size, kept beside it: each node recounts the inbox every
-- few seconds (its admission counters), and summing this column through
-- its index reads a few bytes a row instead of every payload.
ALTER TABLE inbox ADD COLUMN payload_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE inbox SET payload_bytes = length(payload);
CREATE INDEX inbox_payload_bytes ON inbox(payload_bytes);

ALTER TABLE notification_outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE notification_outbox ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
