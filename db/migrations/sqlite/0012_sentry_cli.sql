-- sentry-cli uploads an artifact bundle as chunks named by their SHA-1
-- (POST /api/0/organizations/{org}/chunk-upload/), then asks for it to be
-- assembled. Chunks wait here, in the database rather than a temp folder
-- (so any process may assemble them), until the assembly that uses them
-- is done; ones no assembly claims are removed after a while.
CREATE TABLE upload_chunks (
    sha1        TEXT    PRIMARY KEY,      -- of the uncompressed chunk, lowercase hex
    data        BLOB    NOT NULL,         -- the chunk as uploaded, uncompressed
    size_bytes  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX upload_chunks_created ON upload_chunks(created_at);

-- What became of an artifact bundle sentry-cli asked to assemble, by the
-- SHA-1 of the whole bundle and the projects it is for: sentry-cli polls until it reads ok or error.
-- 'created' while a request is assembling it.
CREATE TABLE bundle_assemblies (
    bundle_key  TEXT    PRIMARY KEY,      -- the bundle's SHA-1, ":", the SHA-1 of its chunk list, release and dist, then ":<project id>" for each project
    state       TEXT    NOT NULL CHECK (state IN ('created','ok','error')),
    detail      TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Releases as sentry-cli and the bundler plugins create, finalize and list
-- them. Sentry's releases belong to an organization and several projects;
-- here each project has its own row of a version.
CREATE TABLE releases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version     TEXT    NOT NULL,
    url         TEXT    NOT NULL DEFAULT '',
    refs        TEXT    NOT NULL DEFAULT '',  -- the commit refs sent (JSON), as sent
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open','archived')),
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    released_at INTEGER,
    UNIQUE (project_id, version)
);

-- Deploys of a release (sentry-cli releases deploys new, the bundler plugins' deploy option).
CREATE TABLE release_deploys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    release_id  INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    environment TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    url         TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER,
    finished_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX release_deploys_release ON release_deploys(release_id);
