-- A bulk upload from the browser is two requests: the files arrive and the
-- pairing is shown, then the person confirms. Between the two the files
-- wait here, in the database rather than a temp folder, so the confirmation
-- may reach any process. A batch is named by an unguessable token of which
-- only the SHA-256 is kept, as for sessions; it belongs to one person in one
-- project and is removed once stored, or after expires_at.
CREATE TABLE upload_batches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT    NOT NULL UNIQUE,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX upload_batches_expires ON upload_batches(expires_at);

-- The files of a batch, in the order they were uploaded.
CREATE TABLE upload_batch_files (
    batch_id    INTEGER NOT NULL REFERENCES upload_batches(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    data        BLOB    NOT NULL,         -- zstd of the file as uploaded
    PRIMARY KEY (batch_id, position)
) WITHOUT ROWID;
