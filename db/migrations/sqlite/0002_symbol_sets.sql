-- A symbol set is what resolves minified frames of one file: one per
-- (project, ref), ref being a chunk id, a debug id or the minified file's URL.
-- It is either stored (map and, when known, the minified source, both
-- compressed) or missing with the failure that says why.
CREATE TABLE symbol_sets (
    id              INTEGER PRIMARY KEY,
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
    UNIQUE (project_id, ref)
);

-- What symbolication said about each distinct frame (events share raw ids),
-- so pages show the current answer and re-resolution updates old events too.
CREATE TABLE frame_resolutions (
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    raw_id        TEXT    NOT NULL,
    symbol_set_id INTEGER REFERENCES symbol_sets(id) ON DELETE SET NULL,
    frame         BLOB    NOT NULL,                    -- the frame as sent (event.Frame JSON), to resolve it again
    resolution    BLOB    NOT NULL,                    -- event.Resolution as JSON
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (project_id, raw_id)
) WITHOUT ROWID;
CREATE INDEX frame_resolutions_symbol_set ON frame_resolutions(symbol_set_id);

-- Which events hold which symbolicated frames, so that when a symbol set
-- changes the events it affects can be fingerprinted again.
CREATE TABLE event_frames (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    raw_id     TEXT    NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, raw_id, event_id)
) WITHOUT ROWID;
CREATE INDEX event_frames_event ON event_frames(event_id);
