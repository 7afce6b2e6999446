-- An inbox row's payload moves to a table of its own (as on SQLite, where a
-- claim rewrote every claimed payload): a claim updates only the narrow
-- inbox rows, and a payload is written once and deleted with its row.
CREATE TABLE inbox_payloads (
    inbox_id BIGINT  PRIMARY KEY REFERENCES inbox(id) ON DELETE CASCADE,
    payload  BYTEA   NOT NULL          -- one event, as the client sent it (JSON)
);
INSERT INTO inbox_payloads(inbox_id, payload) SELECT id, payload FROM inbox;
ALTER TABLE inbox DROP COLUMN payload;
