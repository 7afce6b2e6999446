-- Triage: release-aware resolving, assignees, search, facets, timeline.

-- resolved_in_release: a resolved issue stays resolved for events of older
-- releases than this one ('' = any new event reopens it).
ALTER TABLE issues ADD COLUMN resolved_in_release TEXT NOT NULL DEFAULT '';
ALTER TABLE issues ADD COLUMN assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL;
-- users_affected counts distinct non-empty distinct_ids of the stored events,
-- kept with the events so the list can sort by it.
ALTER TABLE issues ADD COLUMN users_affected INTEGER NOT NULL DEFAULT 0;
-- search_text holds, one per line and lower-cased, the exception types,
-- messages, function and file names seen in the issue's events.
ALTER TABLE issues ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX issues_project_first_seen ON issues(project_id, first_seen DESC, id DESC);

-- How often each value of a few event properties (url, browser, os,
-- release, lib, user) occurred in an issue's stored events: top values on
-- the issue page, "releases seen", the release and library filters, and
-- users affected.
CREATE TABLE issue_values (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id   INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (issue_id, key, value)
) WITHOUT ROWID;
CREATE INDEX issue_values_project_key ON issue_values(project_id, key, value);

-- The issue's timeline: every change of status, assignee or text, by whom
-- (a user's email, or 'stacklens' for automatic reopening).
CREATE TABLE issue_activity (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id   INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,            -- status | regression | assignee | rename
    from_value TEXT    NOT NULL DEFAULT '',
    to_value   TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX issue_activity_issue ON issue_activity(issue_id, at, id);

-- Merges are on the timeline too; who merged (automatic regrouping is 'stacklens').
ALTER TABLE issue_merges ADD COLUMN merged_by TEXT NOT NULL DEFAULT 'stacklens';

-- Fill the new columns for issues stored before this migration.
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT project_id, issue_id, 'user', distinct_id, count(*), min(timestamp), max(timestamp) FROM events WHERE distinct_id != '' GROUP BY issue_id, distinct_id;
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT project_id, issue_id, 'url', url, count(*), min(timestamp), max(timestamp) FROM events WHERE url != '' GROUP BY issue_id, url;
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT project_id, issue_id, 'browser', browser, count(*), min(timestamp), max(timestamp) FROM events WHERE browser != '' GROUP BY issue_id, browser;
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT project_id, issue_id, 'os', os, count(*), min(timestamp), max(timestamp) FROM events WHERE os != '' GROUP BY issue_id, os;
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT project_id, issue_id, 'release', release, count(*), min(timestamp), max(timestamp) FROM events WHERE release != '' GROUP BY issue_id, release;
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT project_id, issue_id, 'lib', lib, count(*), min(timestamp), max(timestamp) FROM events WHERE lib != '' GROUP BY issue_id, lib;
UPDATE issues SET users_affected = (SELECT count(*) FROM issue_values v WHERE v.issue_id = issues.id AND v.key = 'user');
UPDATE issues SET search_text = coalesce((
    SELECT char(10) || group_concat(v, char(10)) || char(10) FROM (
        SELECT DISTINCT lower(j.value) AS v FROM json_tree(CAST((SELECT e.data FROM events e WHERE e.issue_id = issues.id
            ORDER BY e.timestamp DESC, e.id DESC LIMIT 1) AS TEXT)) j
        WHERE j.key IN ('type', 'value', 'function', 'filename', 'abs_path', 'name', 'source') AND j.type = 'text' AND j.value != '')), '');
