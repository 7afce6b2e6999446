-- Retention keeps each project's newest rejected inbox rows and deletes
-- those set aside longer ago than the project keeps events; both go
-- through this index, oldest first, without reading the payloads.
CREATE INDEX inbox_rejected_project ON inbox_rejected(project_id, failed_at, id);
