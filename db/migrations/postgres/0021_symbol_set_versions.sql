-- Several processes may share one database, and each caches symbol sets:
-- their records, parsed maps, answers per position. Every write of a set's
-- content gives it a new version, taken from one counter in symbol_set_clock,
-- so a process asks with one small query per batch whether anything changed
-- since it last looked, and reads only the sets whose version is newer. A
-- delete leaves no row to compare: it counts in deletions instead. A set
-- created as missing keeps version 0: no cache can hold a set before it exists.
ALTER TABLE symbol_sets ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX symbol_sets_version ON symbol_sets(version);

-- One row: the last version handed out, and the deletes of symbol sets so far.
CREATE TABLE symbol_set_clock (
    version   BIGINT  NOT NULL,
    deletions BIGINT  NOT NULL
);
INSERT INTO symbol_set_clock(version, deletions) VALUES (0, 0);

-- One fetch per (project, ref) among the processes sharing the database: a
-- process fetches a URL only while it holds the ref's claim, and the others
-- wait for the outcome it stores. A claim lapses at expires_at (unix ms)
-- unless its holder renews it, so a process that died while fetching leaves
-- the fetch to another.
CREATE TABLE symbol_set_fetch_claims (
    project_id BIGINT  NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    ref        TEXT    NOT NULL,
    claimant   TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (project_id, ref)
);
