package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Release is one version of one project, as sentry-cli manages them.
type Release struct {
	ID         int64
	ProjectID  int64
	Version    string
	URL        string
	Refs       string // the commit refs sent, JSON
	Status     string // open | archived
	CreatedAt  time.Time
	StartedAt  time.Time // zero when not sent
	ReleasedAt time.Time // zero until finalized
}

// ReleaseChange is what a create or update sets; nil fields stay as they are.
type ReleaseChange struct {
	URL        *string
	Refs       *string
	Status     *string
	StartedAt  *time.Time
	ReleasedAt *time.Time
}

const releaseColumns = "id, project_id, version, url, refs, status, created_at, started_at, released_at"

func scanRelease(row interface{ Scan(...any) error }) (Release, error) {
	var r Release
	var created int64
	var started, released sql.NullInt64
	if err := row.Scan(&r.ID, &r.ProjectID, &r.Version, &r.URL, &r.Refs, &r.Status, &created, &started, &released); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, ErrNotFound
		}
		return r, err
	}
	r.CreatedAt, r.StartedAt, r.ReleasedAt = fromMillis(created), nullMillis(started), nullMillis(released)
	return r, nil
}

func optionalMillis(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return millis(*t)
}

// SaveReleases creates the release version in each of projectIDs or, where
// a project has it already, applies change to it, in one transaction:
// afterwards every project has it, or (on an error) none was changed.
// created says whether some project did not have it before.
func (d *DB) SaveReleases(ctx context.Context, projectIDs []int64, version string, change ReleaseChange) ([]Release, bool, error) {
	return d.changeReleases(ctx, projectIDs, version, change, true)
}

// UpdateReleases applies change to the release version of each of
// projectIDs, in one transaction; ErrNotFound, changing nothing, when one
// of them does not have it.
func (d *DB) UpdateReleases(ctx context.Context, projectIDs []int64, version string, change ReleaseChange) ([]Release, error) {
	rows, _, err := d.changeReleases(ctx, projectIDs, version, change, false)
	return rows, err
}

func (d *DB) changeReleases(ctx context.Context, projectIDs []int64, version string, change ReleaseChange, create bool) ([]Release, bool, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("save release %s: %w", version, err)
	}
	defer tx.Rollback()
	created := false
	now := millis(time.Now())
	rows := make([]Release, 0, len(projectIDs))
	for _, projectID := range projectIDs {
		if create {
			res, err := tx.ExecContext(ctx, `INSERT INTO releases(project_id, version, created_at) VALUES (?, ?, ?)
				ON CONFLICT(project_id, version) DO NOTHING`, projectID, version, now)
			if err != nil {
				return nil, false, fmt.Errorf("save release %s of project %d: %w", version, projectID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				created = true
			}
		}
		if err := applyReleaseChange(ctx, tx, projectID, version, change); err != nil {
			return nil, false, err
		}
		r, err := scanRelease(tx.QueryRowContext(ctx, "SELECT "+releaseColumns+" FROM releases WHERE project_id = ? AND version = ?", projectID, version))
		if errors.Is(err, ErrNotFound) {
			return nil, false, err
		}
		if err != nil {
			return nil, false, fmt.Errorf("load release %s of project %d: %w", version, projectID, err)
		}
		rows = append(rows, r)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("save release %s: %w", version, err)
	}
	return rows, created, nil
}

func applyReleaseChange(ctx context.Context, tx *txn, projectID int64, version string, c ReleaseChange) error {
	set := func(column string, value any) error {
		if _, err := tx.ExecContext(ctx, "UPDATE releases SET "+column+" = ? WHERE project_id = ? AND version = ?", value, projectID, version); err != nil {
			return fmt.Errorf("update release %s: %w", version, err)
		}
		return nil
	}
	steps := []struct {
		given  bool
		column string
		value  func() any
	}{
		{c.URL != nil, "url", func() any { return *c.URL }},
		{c.Refs != nil, "refs", func() any { return *c.Refs }},
		{c.Status != nil, "status", func() any { return *c.Status }},
		{c.StartedAt != nil, "started_at", func() any { return optionalMillis(c.StartedAt) }},
		{c.ReleasedAt != nil, "released_at", func() any { return optionalMillis(c.ReleasedAt) }},
	}
	for _, s := range steps {
		if s.given {
			if err := set(s.column, s.value()); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReleasesOfVersion loads the release version of every project that has
// it, by project id; none when no project has it.
func (d *DB) ReleasesOfVersion(ctx context.Context, version string) ([]Release, error) {
	// project_id IN (…) lets SQLite look each project's row up in the
	// (project_id, version) index instead of reading every release.
	rows, err := d.read.QueryContext(ctx, "SELECT "+releaseColumns+" FROM releases WHERE project_id IN (SELECT id FROM projects) AND version = ? ORDER BY project_id", version)
	if err != nil {
		return nil, fmt.Errorf("load release %s: %w", version, err)
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, fmt.Errorf("load release %s: %w", version, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load release %s: %w", version, err)
	}
	return out, nil
}

// Releases lists the releases of projects, newest first, at most limit.
func (d *DB) Releases(ctx context.Context, projectIDs []int64, limit int) ([]Release, error) {
	if len(projectIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(projectIDs)+1)
	for _, id := range projectIDs {
		args = append(args, id)
	}
	args = append(args, limit)
	rows, err := d.read.QueryContext(ctx, "SELECT "+releaseColumns+" FROM releases WHERE project_id IN "+inList(len(projectIDs))+
		" ORDER BY created_at DESC, id DESC LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, fmt.Errorf("list releases: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteReleaseVersion removes the release version from every project,
// with its deploys; ErrNotFound when no project has it.
func (d *DB) DeleteReleaseVersion(ctx context.Context, version string) error {
	res, err := d.write.ExecContext(ctx, "DELETE FROM releases WHERE project_id IN (SELECT id FROM projects) AND version = ?", version)
	if err != nil {
		return fmt.Errorf("delete release %s: %w", version, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Deploy is one deploy of a release to an environment.
type Deploy struct {
	ID          int64
	ReleaseID   int64
	Environment string
	Name        string
	URL         string
	StartedAt   time.Time
	FinishedAt  time.Time
}

// AddDeploys records one deploy of each of releaseIDs (the rows of one
// version in several projects), in one transaction, and returns the last.
func (d *DB) AddDeploys(ctx context.Context, releaseIDs []int64, dep Deploy) (Deploy, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return dep, fmt.Errorf("record deploy: %w", err)
	}
	defer tx.Rollback()
	now := millis(time.Now())
	for _, id := range releaseIDs {
		dep.ReleaseID = id
		err := tx.QueryRowContext(ctx, `INSERT INTO release_deploys(release_id, environment, name, url, started_at, finished_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, dep.ReleaseID, dep.Environment, dep.Name, dep.URL, optionalMillis(&dep.StartedAt),
			millis(dep.FinishedAt), now).Scan(&dep.ID)
		if err != nil {
			return dep, fmt.Errorf("record deploy of release %d: %w", dep.ReleaseID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return dep, fmt.Errorf("record deploy: %w", err)
	}
	return dep, nil
}

// DeploysOfReleases lists the deploys of releaseIDs, each release's newest
// first, in one query.
func (d *DB) DeploysOfReleases(ctx context.Context, releaseIDs []int64) (map[int64][]Deploy, error) {
	out := map[int64][]Deploy{}
	if len(releaseIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(releaseIDs))
	for i, id := range releaseIDs {
		args[i] = id
	}
	rows, err := d.read.QueryContext(ctx, `SELECT id, release_id, environment, name, url, started_at, finished_at
		FROM release_deploys WHERE release_id IN `+inList(len(releaseIDs))+` ORDER BY finished_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list deploys of %d releases: %w", len(releaseIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var dep Deploy
		var started sql.NullInt64
		var finished int64
		if err := rows.Scan(&dep.ID, &dep.ReleaseID, &dep.Environment, &dep.Name, &dep.URL, &started, &finished); err != nil {
			return nil, fmt.Errorf("list deploys of %d releases: %w", len(releaseIDs), err)
		}
		dep.StartedAt, dep.FinishedAt = nullMillis(started), fromMillis(finished)
		out[dep.ReleaseID] = append(out[dep.ReleaseID], dep)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deploys of %d releases: %w", len(releaseIDs), err)
	}
	return out, nil
}
