-- The issue list at a million events: nothing on the list's unfiltered path
-- reads the events table.

-- Stored events per issue and hour (hour = unix ms of the hour's start),
-- counted as each event is stored and moved along when issues merge: the
-- list's sparklines and the issue page's charts (buckets of whole hours and
-- UTC days) add these up instead of counting events.
CREATE TABLE issue_hourly (
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    hour     INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (issue_id, hour)
) WITHOUT ROWID;
INSERT INTO issue_hourly(issue_id, hour, count)
    SELECT issue_id, timestamp - ((timestamp % 3600000) + 3600000) % 3600000 AS hour, count(*) FROM events GROUP BY issue_id, hour;

-- Search: a trigram index over the same text the search's LIKE looks at
-- (name, description, search_text), so a term of 3 or more characters finds
-- its issues without reading every issue's text. rowid = issues.id. Triggers
-- keep it current on every path that writes those columns; a migration that
-- rebuilds the issues table must create them again.
CREATE VIRTUAL TABLE issue_search USING fts5(text, tokenize = 'trigram');
INSERT INTO issue_search(rowid, text) SELECT id, name || char(10) || description || char(10) || search_text FROM issues;
CREATE TRIGGER issue_search_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issue_search(rowid, text) VALUES (new.id, new.name || char(10) || new.description || char(10) || new.search_text);
END;
CREATE TRIGGER issue_search_update AFTER UPDATE OF name, description, search_text ON issues BEGIN
    UPDATE issue_search SET text = new.name || char(10) || new.description || char(10) || new.search_text WHERE rowid = new.id;
END;
CREATE TRIGGER issue_search_delete AFTER DELETE ON issues BEGIN
    DELETE FROM issue_search WHERE rowid = old.id;
END;

-- The list's orders, with and without a status filter (last_seen and
-- first_seen without one had theirs already).
CREATE INDEX issues_project_status_occurrences ON issues(project_id, status, occurrences DESC, id DESC);
CREATE INDEX issues_project_occurrences ON issues(project_id, occurrences DESC, id DESC);
CREATE INDEX issues_project_status_users ON issues(project_id, status, users_affected DESC, id DESC);
CREATE INDEX issues_project_users ON issues(project_id, users_affected DESC, id DESC);
CREATE INDEX issues_project_status_first_seen ON issues(project_id, status, first_seen DESC, id DESC);
