-- Several projects. A deleted project's id is never given out
-- again, so an old link, cookie or CI setting that names it is refused
-- instead of landing in a newer project.
CREATE TABLE deleted_projects (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    deleted_at INTEGER NOT NULL
);

-- Names tell projects apart in the switcher and confirm a deletion.
CREATE UNIQUE INDEX projects_name ON projects(name COLLATE NOCASE);
