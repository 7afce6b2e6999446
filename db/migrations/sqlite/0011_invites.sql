-- Invitations: an admin invites an email with a role; the link
-- /invite/{token} lets that person choose a password once, before it
-- expires. Only the SHA-256 of the token is kept, as for sessions.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT    NOT NULL UNIQUE,
    email       TEXT    NOT NULL COLLATE NOCASE,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    invited_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX invites_email ON invites(email);
