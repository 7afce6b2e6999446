package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/project"
)

// MaxProjectNameLen caps a project name (project.MaxNameLen).
const MaxProjectNameLen = project.MaxNameLen

var (
	// ErrProjectNameTaken is returned when another project already has the name.
	ErrProjectNameTaken = errors.New("another project already has this name")
	// ErrLastProject is returned when deleting the only project left.
	ErrLastProject = errors.New("the last project cannot be deleted")
)

// NewProjectToken is a fresh public capture token (project.NewToken).
func NewProjectToken() string { return project.NewToken() }

// CheckProjectName trims name and says what is wrong with it; the rule is
// project.CheckName, kept here for db's callers.
func CheckProjectName(name string) (string, error) { return project.CheckName(name) }

// Projects lists every project, oldest first.
func (d *DB) Projects(ctx context.Context) ([]Project, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+projectColumns+" FROM projects ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// FirstProject is the oldest project there is: the one shown when nothing
// else says which.
func (d *DB) FirstProject(ctx context.Context) (Project, error) {
	p, err := scanProject(d.read.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects ORDER BY id LIMIT 1"))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Project{}, fmt.Errorf("load first project: %w", err)
	}
	return p, err
}

// CreateProject adds a project with a new token. Its id follows every id
// ever used, deleted projects' included. name must pass CheckProjectName.
func (d *DB) CreateProject(ctx context.Context, name string) (Project, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	defer tx.Rollback()
	if err := nameFree(ctx, tx, name, 0); err != nil {
		return Project{}, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT `+tx.statements().greatest("coalesce((SELECT max(id) FROM projects), 0)",
		"coalesce((SELECT max(id) FROM deleted_projects), 0)")+` + 1`).Scan(&id)
	if err != nil {
		return Project{}, fmt.Errorf("create project: next id: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO projects(id, name, token, created_at) VALUES (?, ?, ?, ?)",
		id, name, NewProjectToken(), millis(time.Now())); err != nil {
		return Project{}, fmt.Errorf("create project %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return Project{}, fmt.Errorf("create project %q: %w", name, err)
	}
	return d.Project(ctx, id)
}

// RenameProject changes a project's name. name must pass CheckProjectName.
func (d *DB) RenameProject(ctx context.Context, id int64, name string) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rename project %d: %w", id, err)
	}
	defer tx.Rollback()
	if err := nameFree(ctx, tx, name, id); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, "UPDATE projects SET name = ? WHERE id = ?", name, id)
	if err != nil {
		return fmt.Errorf("rename project %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rename project %d: %w", id, err)
	}
	return nil
}

// nameFree fails with ErrProjectNameTaken when a project other than except has name.
func nameFree(ctx context.Context, tx txRunner, name string, except int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM projects WHERE name = ? COLLATE NOCASE AND id != ?", name, except).Scan(&n); err != nil {
		return fmt.Errorf("check project name: %w", err)
	}
	if n > 0 {
		return ErrProjectNameTaken
	}
	return nil
}

// DeleteProject removes a project and everything it owns: issues, events,
// symbol sets, uploads, notification channels, its inbox (the foreign keys
// cascade) and the inbox rows kept as rejected (which have none). The
// last project cannot be deleted.
func (d *DB) DeleteProject(ctx context.Context, id int64) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete project %d: %w", id, err)
	}
	defer tx.Rollback()
	p, err := scanProject(tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE id = ?", id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrNotFound
		}
		return fmt.Errorf("delete project %d: %w", id, err)
	}
	var others int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM projects WHERE id != ?", id).Scan(&others); err != nil {
		return fmt.Errorf("delete project %d: %w", id, err)
	}
	if others == 0 {
		return ErrLastProject
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO deleted_projects(id, name, deleted_at) VALUES (?, ?, ?)",
		id, p.Name, millis(time.Now())); err != nil {
		return fmt.Errorf("delete project %d: remember its id: %w", id, err)
	}
	// Its inbox rows go with it (the foreign key cascades): counted first, for the inbox's counters.
	var gone InboxLoad
	if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(payload_bytes), 0) FROM inbox WHERE project_id = ?", id).Scan(&gone.Events, &gone.Bytes); err != nil {
		return fmt.Errorf("delete project %d: measure its inbox: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM inbox_rejected WHERE project_id = ?", id); err != nil {
		return fmt.Errorf("delete project %d: rejected inbox rows: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM projects WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete project %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete project %d: %w", id, err)
	}
	d.inboxDrained(gone)
	return nil
}

// SymbolSetIDsOfProject lists the ids of a project's symbol sets, so caches
// of them can be dropped when the project goes.
func (d *DB) SymbolSetIDsOfProject(ctx context.Context, projectID int64) ([]int64, error) {
	rows, err := d.write.QueryContext(ctx, "SELECT id FROM symbol_sets WHERE project_id = ?", projectID)
	if err != nil {
		return nil, fmt.Errorf("list symbol sets of project %d: %w", projectID, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list symbol sets of project %d: %w", projectID, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ProjectOfIssue, ProjectOfSymbolSet and ProjectOfNotificationChannel tell
// which project a row belongs to, so a page addressed by the row's id shows
// that project whichever one is selected.
func (d *DB) ProjectOfIssue(ctx context.Context, id int64) (int64, error) {
	return d.projectOf(ctx, "SELECT project_id FROM issues WHERE id = ?", id)
}

// ProjectOfSymbolSet: see ProjectOfIssue.
func (d *DB) ProjectOfSymbolSet(ctx context.Context, id int64) (int64, error) {
	return d.projectOf(ctx, "SELECT project_id FROM symbol_sets WHERE id = ?", id)
}

// ProjectOfNotificationChannel: see ProjectOfIssue.
func (d *DB) ProjectOfNotificationChannel(ctx context.Context, id int64) (int64, error) {
	return d.projectOf(ctx, "SELECT project_id FROM notification_channels WHERE id = ?", id)
}

func (d *DB) projectOf(ctx context.Context, query string, id int64) (int64, error) {
	var projectID int64
	err := d.read.QueryRowContext(ctx, query, id).Scan(&projectID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find the project of row %d: %w", id, err)
	}
	return projectID, nil
}

// ProjectIssueCounts counts the issues of every project (all statuses).
func (d *DB) ProjectIssueCounts(ctx context.Context) (map[int64]int64, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT project_id, count(*) FROM issues GROUP BY project_id")
	if err != nil {
		return nil, fmt.Errorf("count issues per project: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count issues per project: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
