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

// SaveRelease creates the release of (projectID, version) or, when it
// exists, applies change to it; created says which.
func (d *DB) SaveRelease(ctx context.Context, projectID int64, version string, change ReleaseChange) (Release, bool, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return Release{}, false, fmt.Errorf("save release %s: %w", version, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO releases(project_id, version, created_at) VALUES (?, ?, ?)
		ON CONFLICT(project_id, version) DO NOTHING`, projectID, version, millis(time.Now()))
	if err != nil {
		return Release{}, false, fmt.Errorf("save release %s: %w", version, err)
	}
	n, _ := res.RowsAffected()
	if err := applyReleaseChange(ctx, tx, projectID, version, change); err != nil {
		return Release{}, false, err
	}
	r, err := scanRelease(tx.QueryRowContext(ctx, "SELECT "+releaseColumns+" FROM releases WHERE project_id = ? AND version = ?", projectID, version))
	if err != nil {
		return Release{}, false, fmt.Errorf("load release %s: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return Release{}, false, fmt.Errorf("save release %s: %w", version, err)
	}
	return r, n == 1, nil
}

func applyReleaseChange(ctx context.Context, tx *sql.Tx, projectID int64, version string, c ReleaseChange) error {
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

// UpdateRelease applies change to an existing release; ErrNotFound when there is none.
func (d *DB) UpdateRelease(ctx context.Context, projectID int64, version string, change ReleaseChange) (Release, error) {
	if _, err := d.ReleaseByVersion(ctx, projectID, version); err != nil {
		return Release{}, err
	}
	r, _, err := d.SaveRelease(ctx, projectID, version, change)
	return r, err
}

// ReleaseByVersion loads one release; ErrNotFound when there is none.
func (d *DB) ReleaseByVersion(ctx context.Context, projectID int64, version string) (Release, error) {
	r, err := scanRelease(d.write.QueryRowContext(ctx, "SELECT "+releaseColumns+" FROM releases WHERE project_id = ? AND version = ?", projectID, version))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r, fmt.Errorf("load release %s: %w", version, err)
	}
	return r, err
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

// DeleteRelease removes a release and its deploys; ErrNotFound when there is none.
func (d *DB) DeleteRelease(ctx context.Context, projectID int64, version string) error {
	res, err := d.write.ExecContext(ctx, "DELETE FROM releases WHERE project_id = ? AND version = ?", projectID, version)
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

// AddDeploy records a deploy of a release.
func (d *DB) AddDeploy(ctx context.Context, dep Deploy) (Deploy, error) {
	res, err := d.write.ExecContext(ctx, `INSERT INTO release_deploys(release_id, environment, name, url, started_at, finished_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, dep.ReleaseID, dep.Environment, dep.Name, dep.URL, optionalMillis(&dep.StartedAt),
		millis(dep.FinishedAt), millis(time.Now()))
	if err != nil {
		return dep, fmt.Errorf("record deploy of release %d: %w", dep.ReleaseID, err)
	}
	dep.ID, err = res.LastInsertId()
	return dep, err
}

// Deploys lists a release's deploys, newest first.
func (d *DB) Deploys(ctx context.Context, releaseID int64) ([]Deploy, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, release_id, environment, name, url, started_at, finished_at
		FROM release_deploys WHERE release_id = ? ORDER BY finished_at DESC, id DESC`, releaseID)
	if err != nil {
		return nil, fmt.Errorf("list deploys of release %d: %w", releaseID, err)
	}
	defer rows.Close()
	var out []Deploy
	for rows.Next() {
		var dep Deploy
		var started sql.NullInt64
		var finished int64
		if err := rows.Scan(&dep.ID, &dep.ReleaseID, &dep.Environment, &dep.Name, &dep.URL, &started, &finished); err != nil {
			return nil, fmt.Errorf("list deploys of release %d: %w", releaseID, err)
		}
		dep.StartedAt, dep.FinishedAt = nullMillis(started), fromMillis(finished)
		out = append(out, dep)
	}
	return out, rows.Err()
}
