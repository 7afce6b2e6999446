-- An inbox row's payload moves to a table of its own. Claiming a batch
-- writes claimed_by and claimed_until, and SQLite rewrites a whole row to
-- change a column: with the payload inside (2-4 KB, a page each), every
-- claim wrote every claimed event again (and checkpointed it again), a
-- third of the pages the pipeline wrote per event. Now a claim rewrites
-- rows of a few dozen bytes, and a payload is written once and deleted
-- with its row.
CREATE TABLE inbox_payloads (
    inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id) ON DELETE CASCADE,
    payload  BLOB    NOT NULL          -- one event, as the client sent it (JSON)
);
INSERT INTO inbox_payloads(inbox_id, payload) SELECT id, payload FROM inbox;
ALTER TABLE inbox DROP COLUMN payload;
