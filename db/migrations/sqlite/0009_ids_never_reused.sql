-- stacklens:foreign_keys=off
-- (The runner turns foreign keys off around this migration, as SQLite's
-- documented table rebuild requires, and runs PRAGMA foreign_key_check
-- before committing.)
--
-- Ids are never handed out twice. Without AUTOINCREMENT SQLite gives a new
-- row max(id)+1, so deleting or merging the newest row made its id come
-- back: a saved link to issue #4 opened an unrelated error, and an inbox
-- row's id (from which uuid-less events took their uuid) repeated once the
-- inbox had drained. SQLite cannot add AUTOINCREMENT to a table, so every
-- table with an integer id is rebuilt (create new_X, copy, drop X, rename
-- new_X to X, recreate its indexes) and sqlite_sequence is seeded past
-- every id already handed out, deleted ones included where a row still
-- names them. Projects keep their own scheme (max of projects and
-- deleted_projects, plus one).
--
-- The inbox also gets a uuid column: an event that came without one is
-- given a random uuid when it is accepted, before it is answered 200.

CREATE TABLE new_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
INSERT INTO new_users(id, email, password_hash, is_admin, created_at)
    SELECT id, email, password_hash, is_admin, created_at FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;

CREATE TABLE new_api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label        TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    mask         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
INSERT INTO new_api_keys(id, user_id, label, key_hash, mask, created_at, last_used_at, revoked_at)
    SELECT id, user_id, label, key_hash, mask, created_at, last_used_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE new_api_keys RENAME TO api_keys;

-- The durable inbox: capture answers 200 only after its rows are committed.
-- The pipeline deletes rows in the same transaction that stores their events.
-- uuid is the event's identity: the client's uuid, or a random one given on
-- receipt when it sent none.
CREATE TABLE new_inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    format      TEXT    NOT NULL,          -- 'posthog'
    received_at INTEGER NOT NULL,
    payload     BLOB    NOT NULL,          -- one event, as the client sent it (JSON)
    attempts    INTEGER NOT NULL DEFAULT 0,
    uuid        TEXT    NOT NULL
);
-- Rows waiting from before this migration get a random version-4 uuid (used
-- only when the payload has none of its own).
INSERT INTO new_inbox(id, project_id, format, received_at, payload, attempts, uuid)
    SELECT id, project_id, format, received_at, payload, attempts,
        lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' ||
        substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))
    FROM inbox;
DROP TABLE inbox;
ALTER TABLE new_inbox RENAME TO inbox;

CREATE TABLE new_issues (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id          INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    status              TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active','resolved','suppressed')),
    first_seen          INTEGER NOT NULL,
    last_seen           INTEGER NOT NULL,
    occurrences         INTEGER NOT NULL DEFAULT 0,
    regressed_at        INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    resolved_in_release TEXT    NOT NULL DEFAULT '',
    assignee_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    users_affected      INTEGER NOT NULL DEFAULT 0,
    search_text         TEXT    NOT NULL DEFAULT ''
);
INSERT INTO new_issues(id, project_id, name, description, status, first_seen, last_seen, occurrences, regressed_at,
        created_at, updated_at, resolved_in_release, assignee_id, users_affected, search_text)
    SELECT id, project_id, name, description, status, first_seen, last_seen, occurrences, regressed_at,
        created_at, updated_at, resolved_in_release, assignee_id, users_affected, search_text FROM issues;
DROP TABLE issues;
ALTER TABLE new_issues RENAME TO issues;
CREATE INDEX issues_project_last_seen ON issues(project_id, last_seen DESC, id DESC);
CREATE INDEX issues_project_status ON issues(project_id, status, last_seen DESC, id DESC);
CREATE INDEX issues_project_first_seen ON issues(project_id, first_seen DESC, id DESC);

CREATE TABLE new_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_events(id, project_id, issue_id, uuid, fingerprint, timestamp, received_at, distinct_id, url, lib,
        lib_version, release, browser, os, data, raw)
    SELECT id, project_id, issue_id, uuid, fingerprint, timestamp, received_at, distinct_id, url, lib,
        lib_version, release, browser, os, data, raw FROM events;
DROP TABLE events;
ALTER TABLE new_events RENAME TO events;
CREATE INDEX events_issue_time ON events(issue_id, timestamp DESC, id DESC);

-- Inbox rows the pipeline could not turn into an event are kept here, not lost.
CREATE TABLE new_inbox_rejected (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL,
    format      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    payload     BLOB    NOT NULL,
    error       TEXT    NOT NULL,
    failed_at   INTEGER NOT NULL
);
INSERT INTO new_inbox_rejected(id, project_id, format, received_at, payload, error, failed_at)
    SELECT id, project_id, format, received_at, payload, error, failed_at FROM inbox_rejected;
DROP TABLE inbox_rejected;
ALTER TABLE new_inbox_rejected RENAME TO inbox_rejected;

CREATE TABLE new_symbol_sets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    ref             TEXT    NOT NULL,
    ref_kind        TEXT    NOT NULL,                 -- url | chunk_id | debug_id
    state           TEXT    NOT NULL CHECK (state IN ('stored','missing')),
    origin          TEXT    NOT NULL DEFAULT '',      -- fetched | uploaded ('' while missing)
    minified_url    TEXT    NOT NULL DEFAULT '',
    map_url         TEXT    NOT NULL DEFAULT '',
    minified        BLOB,                              -- zstd
    sourcemap       BLOB,                              -- zstd
    content_hash    TEXT    NOT NULL DEFAULT '',       -- sha256 of the map as stored
    size_bytes      INTEGER NOT NULL DEFAULT 0,        -- uncompressed map + minified
    failure         TEXT,                              -- symbols.Failure as JSON, when missing
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    release         TEXT    NOT NULL DEFAULT '',
    upload_hash     TEXT    NOT NULL DEFAULT '',
    UNIQUE (project_id, ref)
);
INSERT INTO new_symbol_sets(id, project_id, ref, ref_kind, state, origin, minified_url, map_url, minified, sourcemap,
        content_hash, size_bytes, failure, created_at, updated_at, last_used_at, release, upload_hash)
    SELECT id, project_id, ref, ref_kind, state, origin, minified_url, map_url, minified, sourcemap,
        content_hash, size_bytes, failure, created_at, updated_at, last_used_at, release, upload_hash FROM symbol_sets;
DROP TABLE symbol_sets;
ALTER TABLE new_symbol_sets RENAME TO symbol_sets;

CREATE TABLE new_symbol_set_uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    symbol_set_id INTEGER NOT NULL REFERENCES symbol_sets(id) ON DELETE CASCADE,
    release       TEXT    NOT NULL DEFAULT '',
    blob          BLOB,                              -- the bytes as uploaded
    blob_hash     TEXT    NOT NULL DEFAULT '',       -- their SHA-512, hex
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    uploaded_at   INTEGER
);
INSERT INTO new_symbol_set_uploads(id, project_id, symbol_set_id, release, blob, blob_hash, created_at, expires_at, uploaded_at)
    SELECT id, project_id, symbol_set_id, release, blob, blob_hash, created_at, expires_at, uploaded_at FROM symbol_set_uploads;
DROP TABLE symbol_set_uploads;
ALTER TABLE new_symbol_set_uploads RENAME TO symbol_set_uploads;
CREATE INDEX symbol_set_uploads_set ON symbol_set_uploads(symbol_set_id);

CREATE TABLE new_issue_activity (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id   INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,            -- status | regression | assignee | rename
    from_value TEXT    NOT NULL DEFAULT '',
    to_value   TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
INSERT INTO new_issue_activity(id, project_id, issue_id, at, actor, kind, from_value, to_value, detail)
    SELECT id, project_id, issue_id, at, actor, kind, from_value, to_value, detail FROM issue_activity;
DROP TABLE issue_activity;
ALTER TABLE new_issue_activity RENAME TO issue_activity;
CREATE INDEX issue_activity_issue ON issue_activity(issue_id, at, id);

CREATE TABLE new_notification_channels (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_notification_channels(id, project_id, name, kind, url, format, email_to, on_new_issue, on_regression,
        enabled, created_at, updated_at)
    SELECT id, project_id, name, kind, url, format, email_to, on_new_issue, on_regression,
        enabled, created_at, updated_at FROM notification_channels;
DROP TABLE notification_channels;
ALTER TABLE new_notification_channels RENAME TO notification_channels;
CREATE INDEX notification_channels_project ON notification_channels(project_id);

-- One row per delivery attempt, so the settings page can say what failed and
-- why. issue_id is not a foreign key: an attempt's record outlives a merge.
CREATE TABLE new_notification_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_notification_deliveries(id, project_id, channel_id, trigger, issue_id, issue_name, attempt, ok, status,
        error, attempted_at)
    SELECT id, project_id, channel_id, trigger, issue_id, issue_name, attempt, ok, status,
        error, attempted_at FROM notification_deliveries;
DROP TABLE notification_deliveries;
ALTER TABLE new_notification_deliveries RENAME TO notification_deliveries;
CREATE INDEX notification_deliveries_project ON notification_deliveries(project_id, id);
CREATE INDEX notification_deliveries_channel ON notification_deliveries(channel_id, id);

-- Notices of new issues and regressions. Each is written in the same
-- transaction as the event that caused it and removed once every channel
-- was tried, so a restart or a crash does not lose a notification.
CREATE TABLE new_notification_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id   INTEGER NOT NULL,               -- no foreign key: a merged issue's notice is dropped when read
    regression INTEGER NOT NULL,
    event      BLOB    NOT NULL,               -- the event's summary (JSON of NewEvent without bodies)
    created_at INTEGER NOT NULL
);
INSERT INTO new_notification_outbox(id, project_id, issue_id, regression, event, created_at)
    SELECT id, project_id, issue_id, regression, event, created_at FROM notification_outbox;
DROP TABLE notification_outbox;
ALTER TABLE new_notification_outbox RENAME TO notification_outbox;

-- Seed sqlite_sequence: the copies above already set each table's counter to
-- its largest id. Ids of deleted rows count too where another row still
-- names them: merged issues (issue_merges), issues of notices and delivery
-- records, and symbol sets named by stored frame resolutions (the column is
-- cleared when the set is deleted, the resolution's JSON keeps the id). Rows
-- deleted before this migration without such a trace cannot be known.
INSERT INTO sqlite_sequence(name, seq)
    SELECT t.name, 0 FROM (SELECT 'users' AS name UNION ALL SELECT 'api_keys' UNION ALL SELECT 'inbox' UNION ALL
        SELECT 'issues' UNION ALL SELECT 'events' UNION ALL SELECT 'inbox_rejected' UNION ALL SELECT 'symbol_sets' UNION ALL
        SELECT 'symbol_set_uploads' UNION ALL SELECT 'issue_activity' UNION ALL SELECT 'notification_channels' UNION ALL
        SELECT 'notification_deliveries' UNION ALL SELECT 'notification_outbox') t
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence s WHERE s.name = t.name);
UPDATE sqlite_sequence SET seq = max(seq,
        coalesce((SELECT max(id) FROM issues), 0),
        coalesce((SELECT max(merged_issue_id) FROM issue_merges), 0),
        coalesce((SELECT max(issue_id) FROM notification_outbox), 0),
        coalesce((SELECT max(issue_id) FROM notification_deliveries), 0))
    WHERE name = 'issues';
UPDATE sqlite_sequence SET seq = max(seq,
        coalesce((SELECT max(symbol_set_id) FROM frame_resolutions), 0),
        coalesce((SELECT max(CAST(json_extract(resolution, '$.symbol_set_id') AS INTEGER)) FROM frame_resolutions
            WHERE json_valid(resolution)), 0))
    WHERE name = 'symbol_sets';
