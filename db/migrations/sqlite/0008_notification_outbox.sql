-- Notices of new issues and regressions. Each is written in the same
-- transaction as the event that caused it and removed once every channel
-- was tried, so a restart or a crash does not lose a notification.
CREATE TABLE notification_outbox (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id   INTEGER NOT NULL,               -- no foreign key: a merged issue's notice is dropped when read
    regression INTEGER NOT NULL,
    event      BLOB    NOT NULL,               -- the event's summary (JSON of NewEvent without bodies)
    created_at INTEGER NOT NULL
);
