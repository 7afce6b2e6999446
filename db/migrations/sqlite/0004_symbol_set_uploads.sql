-- Symbol sets uploaded through the posthog-cli API remember the release
-- they were uploaded for and the SHA-512 of the uploaded blob: a re-run of
-- the same upload is recognised by it, and a changed one refused (409).
ALTER TABLE symbol_sets ADD COLUMN release TEXT NOT NULL DEFAULT '';
ALTER TABLE symbol_sets ADD COLUMN upload_hash TEXT NOT NULL DEFAULT '';

-- An upload the API started (bulk_start_upload): the file arrives at our
-- own presigned endpoint and waits here until bulk_finish_upload checks its
-- SHA-512, so the symbol set keeps its previous content until then.
CREATE TABLE symbol_set_uploads (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    symbol_set_id INTEGER NOT NULL REFERENCES symbol_sets(id) ON DELETE CASCADE,
    release       TEXT    NOT NULL DEFAULT '',
    blob          BLOB,                              -- the bytes as uploaded
    blob_hash     TEXT    NOT NULL DEFAULT '',       -- their SHA-512, hex
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    uploaded_at   INTEGER
);
CREATE INDEX symbol_set_uploads_set ON symbol_set_uploads(symbol_set_id);

-- Keys the server signs short-lived URLs with (upload and download links
-- handed to posthog-cli), created on first use and kept across restarts.
CREATE TABLE server_secrets (
    name       TEXT    PRIMARY KEY,
    secret     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
