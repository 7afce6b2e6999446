-- Notification channels of a project: where to say that an issue
-- is new or has regressed. kind 'webhook' uses url and format ('slack' or
-- 'json'); kind 'email' uses email_to (comma-separated addresses).
CREATE TABLE notification_channels (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('webhook','email')),
    url            TEXT    NOT NULL DEFAULT '',
    format         TEXT    NOT NULL DEFAULT '',
    email_to       TEXT    NOT NULL DEFAULT '',
    on_new_issue   INTEGER NOT NULL DEFAULT 1,
    on_regression  INTEGER NOT NULL DEFAULT 1,
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX notification_channels_project ON notification_channels(project_id);

-- One row per delivery attempt, so the settings page can say what failed and
-- why. issue_id is not a foreign key: an attempt's record outlives a merge.
CREATE TABLE notification_deliveries (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    channel_id   INTEGER NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    trigger      TEXT    NOT NULL,          -- 'issue.created', 'issue.regressed' or 'test'
    issue_id     INTEGER,
    issue_name   TEXT    NOT NULL DEFAULT '',
    attempt      INTEGER NOT NULL,
    ok           INTEGER NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0, -- HTTP status or SMTP reply code, 0 when none came
    error        TEXT    NOT NULL DEFAULT '',
    attempted_at INTEGER NOT NULL
);
CREATE INDEX notification_deliveries_project ON notification_deliveries(project_id, id);
CREATE INDEX notification_deliveries_channel ON notification_deliveries(channel_id, id);
