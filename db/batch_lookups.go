package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/stacklens/stacklens/triage"
)

// batchLookups answers, for a whole batch at once, the two questions
// storeEvent asks of every event: is its uuid stored already, and which
// issue holds its fingerprint. On PostgreSQL every statement is a round trip
// to the server (about a millisecond on a busy machine), and these two were
// half of a batch's. They are read inside the batch's write transaction, so
// no other writer changes the answers meanwhile; what the batch itself
// changes is kept up to date here (uuids it stores) or asked again (the
// issue of a fingerprint it opened or reopened).
type batchLookups struct {
	stored map[projectKey]bool         // uuids stored before or by this batch
	issues map[projectKey]issueAtStart // fingerprints' issues as the batch found them
	absent map[projectKey]bool         // fingerprints no issue held when the batch began
}

type projectKey struct {
	projectID int64
	key       string
}

type issueAtStart struct {
	id         int64
	current    triage.Current
	searchText string
}

// lookupChunk bounds the values in one IN list; lists are padded to a power
// of two (repeating the last value), so a few statement shapes serve every
// batch size and the statement caches stay small.
const lookupChunk = 512

// paddedIn appends to args a chunk's values (at most lookupChunk), padded
// to a power of two with the last one, and returns the IN list's
// placeholders, "(?,?,…)", to go with them.
func paddedIn[T any](args []any, chunk []T) ([]any, string) {
	size := 1
	for size < len(chunk) {
		size *= 2
	}
	for i := range size {
		args = append(args, chunk[min(i, len(chunk)-1)])
	}
	return args, "(" + strings.TrimSuffix(strings.Repeat("?,", size), ",") + ")"
}

// loadBatchLookups reads the stored uuids and the fingerprints' issues of
// events.
func loadBatchLookups(ctx context.Context, tx txRunner, events []NewEvent) (*batchLookups, error) {
	l := &batchLookups{stored: map[projectKey]bool{}, issues: map[projectKey]issueAtStart{}, absent: map[projectKey]bool{}}
	uuids, fingerprints := map[int64][]string{}, map[int64][]string{}
	for _, ev := range events {
		uuids[ev.ProjectID] = append(uuids[ev.ProjectID], ev.UUID)
		fp := projectKey{ev.ProjectID, ev.Fingerprint}
		if !l.absent[fp] {
			l.absent[fp] = true // until the issue is read below
			fingerprints[ev.ProjectID] = append(fingerprints[ev.ProjectID], ev.Fingerprint)
		}
	}
	for project, values := range uuids {
		err := inChunks(ctx, tx, "SELECT uuid FROM events WHERE project_id = ? AND uuid IN ", project, values, func(rows *sql.Rows) error {
			var uuid string
			if err := rows.Scan(&uuid); err != nil {
				return err
			}
			l.stored[projectKey{project, uuid}] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("look up stored uuids: %w", err)
		}
	}
	for project, values := range fingerprints {
		err := inChunks(ctx, tx, `SELECT f.fingerprint, i.id, i.status, i.resolved_in_release, i.search_text FROM issue_fingerprints f
			JOIN issues i ON i.id = f.issue_id WHERE f.project_id = ? AND f.fingerprint IN `, project, values, func(rows *sql.Rows) error {
			var fp string
			var is issueAtStart
			if err := rows.Scan(&fp, &is.id, &is.current.Status, &is.current.ResolvedInRelease, &is.searchText); err != nil {
				return err
			}
			is.current.Exists = true
			key := projectKey{project, fp}
			l.issues[key] = is
			delete(l.absent, key)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("look up fingerprints: %w", err)
		}
	}
	return l, nil
}

// inChunks runs query (ending in "IN ") with projectID and values, at most
// lookupChunk values at a time, and calls scan for every row.
func inChunks(ctx context.Context, tx txRunner, query string, projectID int64, values []string, scan func(*sql.Rows) error) error {
	for start := 0; start < len(values); start += lookupChunk {
		chunk := values[start:min(start+lookupChunk, len(values))]
		args, in := paddedIn([]any{projectID}, chunk)
		rows, err := tx.QueryContext(ctx, query+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// issueOf tells which issue holds the fingerprint, with its status and
// search text, asking the database only when the batch changed the answer.
func (l *batchLookups) issueOf(ctx context.Context, tx txRunner, projectID int64, fingerprint string) (issueAtStart, error) {
	key := projectKey{projectID, fingerprint}
	if is, ok := l.issues[key]; ok {
		return is, nil
	}
	if l.absent[key] {
		return issueAtStart{}, nil
	}
	var is issueAtStart
	err := tx.QueryRowContext(ctx, `SELECT i.id, i.status, i.resolved_in_release, i.search_text FROM issue_fingerprints f
		JOIN issues i ON i.id = f.issue_id WHERE f.project_id = ? AND f.fingerprint = ?`,
		projectID, fingerprint).Scan(&is.id, &is.current.Status, &is.current.ResolvedInRelease, &is.searchText)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return issueAtStart{}, nil
	case err != nil:
		return issueAtStart{}, err
	}
	is.current.Exists = true
	return is, nil
}

// issueChanged forgets what the batch knew of the fingerprint's issue: it
// was opened or reopened, so the next event of it asks the database.
func (l *batchLookups) issueChanged(projectID int64, fingerprint string) {
	key := projectKey{projectID, fingerprint}
	delete(l.issues, key)
	delete(l.absent, key)
}
