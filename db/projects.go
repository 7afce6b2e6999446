package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// DefaultProjectID is the project created at first start.
const DefaultProjectID = 1

// Project is a tracked application with its public capture token.
type Project struct {
	ID                    int64
	Name                  string
	Token                 string
	AutocaptureExceptions bool
	CreatedAt             time.Time
	// RateLimit is the project's own capture limit in events per second:
	// nil uses the server's default, 0 means no limit.
	RateLimit *int64
}

const projectColumns = "id, name, token, autocapture_exceptions, created_at, capture_rate_limit"

func scanProject(row interface{ Scan(...any) error }) (Project, error) {
	var p Project
	var created int64
	var rateLimit sql.NullInt64
	if err := row.Scan(&p.ID, &p.Name, &p.Token, &p.AutocaptureExceptions, &created, &rateLimit); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Project{}, ErrNotFound
		}
		return Project{}, err
	}
	p.CreatedAt = fromMillis(created)
	if rateLimit.Valid {
		p.RateLimit = &rateLimit.Int64
	}
	return p, nil
}

// EnsureDefaultProject creates project 1 with token at first start (when
// there is no project at all). When project 1 exists and wantToken is not
// empty, its token is set to wantToken so the STACKLENS_PROJECT_TOKEN setting
// always wins. When a person deleted project 1, it is not brought back: the
// oldest remaining project is returned and wantToken applies to nothing
// (the caller can tell by the returned id).
func (d *DB) EnsureDefaultProject(ctx context.Context, wantToken, generatedToken string) (Project, error) {
	p, err := d.Project(ctx, DefaultProjectID)
	switch {
	case errors.Is(err, ErrNotFound):
		first, err := d.FirstProject(ctx)
		if err == nil {
			return first, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Project{}, err
		}
		token := wantToken
		if token == "" {
			token = generatedToken
		}
		id, err := d.createFirstProject(ctx, token)
		if err != nil {
			return Project{}, err
		}
		return d.Project(ctx, id)
	case err != nil:
		return Project{}, fmt.Errorf("load default project: %w", err)
	}
	if wantToken != "" && wantToken != p.Token {
		if _, err := d.write.ExecContext(ctx, "UPDATE projects SET token = ? WHERE id = ?", wantToken, p.ID); err != nil {
			return Project{}, fmt.Errorf("set project token: %w", err)
		}
		p.Token = wantToken
	}
	return p, nil
}

// Project loads one project by id.
func (d *DB) Project(ctx context.Context, id int64) (Project, error) {
	p, err := scanProject(d.read.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE id = ?", id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Project{}, fmt.Errorf("load project %d: %w", id, err)
	}
	return p, err
}

// ProjectByToken finds the project whose public capture token is token.
func (d *DB) ProjectByToken(ctx context.Context, token string) (Project, error) {
	p, err := scanProject(d.read.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE token = ?", token))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Project{}, fmt.Errorf("find project by token: %w", err)
	}
	return p, err
}

// SetAutocaptureExceptions turns the remote-config switch for exception autocapture on or off.
func (d *DB) SetAutocaptureExceptions(ctx context.Context, projectID int64, on bool) error {
	res, err := d.write.ExecContext(ctx, "UPDATE projects SET autocapture_exceptions = ? WHERE id = ?", on, projectID)
	if err != nil {
		return fmt.Errorf("set autocapture for project %d: %w", projectID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetRateLimit sets a project's own capture limit in events per second; nil
// goes back to the server's default, 0 means no limit.
func (d *DB) SetRateLimit(ctx context.Context, projectID int64, perSecond *int64) error {
	res, err := d.write.ExecContext(ctx, "UPDATE projects SET capture_rate_limit = ? WHERE id = ?", perSecond, projectID)
	if err != nil {
		return fmt.Errorf("set rate limit of project %d: %w", projectID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// createFirstProject creates the project a server without any starts with,
// in one write transaction, so processes starting at once on one database
// create it once: the first finds none and creates it, the others find it.
// It is project 1 (the last project cannot be deleted, so only a new
// database has none), past any id deleted_projects holds all the same:
// ids are never reused.
func (d *DB) createFirstProject(ctx context.Context, token string) (int64, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("create default project: %w", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, "SELECT id FROM projects ORDER BY id LIMIT 1").Scan(&id)
	if err == nil {
		return id, nil // another process made it first
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("create default project: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) + 1 FROM deleted_projects").Scan(&id); err != nil {
		return 0, fmt.Errorf("create default project: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO projects(id, name, token, created_at) VALUES (?, ?, ?, ?)",
		id, "Default project", token, millis(time.Now())); err != nil {
		return 0, fmt.Errorf("create default project: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("create default project: %w", err)
	}
	return id, nil
}
