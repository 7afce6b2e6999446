-- Projects own everything else. Times are unix milliseconds (UTC).
CREATE TABLE projects (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT    NOT NULL,
    token                  TEXT    NOT NULL UNIQUE,
    autocapture_exceptions INTEGER NOT NULL DEFAULT 1,
    created_at             INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- A session is looked up by the SHA-256 of its cookie value, so a leaked
-- database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label        TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    mask         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- The durable inbox: capture answers 200 only after its rows are committed.
-- The pipeline deletes rows in the same transaction that stores their events.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    format      TEXT    NOT NULL,          -- 'posthog'
    received_at INTEGER NOT NULL,
    payload     BLOB    NOT NULL,          -- one event, as the client sent it (JSON)
    attempts    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE issues (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active','resolved','suppressed')),
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    occurrences  INTEGER NOT NULL DEFAULT 0,
    regressed_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX issues_project_last_seen ON issues(project_id, last_seen DESC, id DESC);
CREATE INDEX issues_project_status ON issues(project_id, status, last_seen DESC, id DESC);

CREATE TABLE issue_fingerprints (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    fingerprint TEXT    NOT NULL,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, fingerprint)
) WITHOUT ROWID;
CREATE INDEX issue_fingerprints_issue ON issue_fingerprints(issue_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    uuid        TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    timestamp   INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    distinct_id TEXT    NOT NULL DEFAULT '',
    url         TEXT    NOT NULL DEFAULT '',
    lib         TEXT    NOT NULL DEFAULT '',
    lib_version TEXT    NOT NULL DEFAULT '',
    release     TEXT    NOT NULL DEFAULT '',
    browser     TEXT    NOT NULL DEFAULT '',
    os          TEXT    NOT NULL DEFAULT '',
    data        BLOB    NOT NULL,          -- the normalised event.Event as JSON
    raw         BLOB    NOT NULL,          -- the event as the client sent it
    UNIQUE (project_id, uuid)
);
CREATE INDEX events_issue_time ON events(issue_id, timestamp DESC, id DESC);

-- Inbox rows the pipeline could not turn into an event are kept here, not lost.
CREATE TABLE inbox_rejected (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL,
    format      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    payload     BLOB    NOT NULL,
    error       TEXT    NOT NULL,
    failed_at   INTEGER NOT NULL
);
