-- Issues merged into another (by a person, or when re-resolution made their
-- fingerprints equal), so the surviving issue can show what it absorbed.
CREATE TABLE issue_merges (
    project_id         INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id           INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    merged_issue_id    INTEGER NOT NULL,
    merged_name        TEXT    NOT NULL,
    merged_occurrences INTEGER NOT NULL,
    merged_at          INTEGER NOT NULL
);
CREATE INDEX issue_merges_issue ON issue_merges(issue_id);
