package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/triage"
)

// StatusChange is a person's change of an issue's status.
type StatusChange struct {
	Status string
	// ResolvedInRelease, with StatusResolved, keeps the issue resolved for
	// events of releases older than this one.
	ResolvedInRelease string
	Actor             string // the user's email, for the timeline
}

// ChangeIssueStatus sets an issue's status and records it on the timeline.
// Setting the status it already has changes nothing.
func (d *DB) ChangeIssueStatus(ctx context.Context, projectID, id int64, ch StatusChange) error {
	_, err := d.ChangeIssuesStatus(ctx, projectID, []int64{id}, ch)
	return err
}

// ChangeIssuesStatus changes the status of several issues at once (all or
// none) and tells how many changed. An id that is not an issue of the
// project is ErrNotFound.
func (d *DB) ChangeIssuesStatus(ctx context.Context, projectID int64, ids []int64, ch StatusChange) (int, error) {
	release, err := triage.CheckStatusChange(ch.Status, ch.ResolvedInRelease)
	if err != nil {
		return 0, fmt.Errorf("set issue status: %w", err)
	}
	ch.ResolvedInRelease = release
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("set issue status: %w", err)
	}
	defer tx.Rollback()
	now := time.Now()
	changed := 0
	for _, id := range ids {
		ok, err := changeStatusTx(ctx, tx, projectID, id, ch, now)
		if err != nil {
			return 0, err
		}
		if ok {
			changed++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("set issue status: %w", err)
	}
	return changed, nil
}

func changeStatusTx(ctx context.Context, tx *txn, projectID, id int64, ch StatusChange, now time.Time) (bool, error) {
	var status, release string
	err := tx.QueryRowContext(ctx, "SELECT status, resolved_in_release FROM issues WHERE project_id = ? AND id = ?", projectID, id).Scan(&status, &release)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("set status of issue %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("set status of issue %d: %w", id, err)
	}
	if !triage.StatusChanges(status, release, ch.Status, ch.ResolvedInRelease) {
		return false, nil
	}
	// A person deciding about the issue settles the regression; the
	// timeline keeps that it happened.
	if _, err := tx.ExecContext(ctx, `UPDATE issues SET status = ?, resolved_in_release = ?, regressed_at = NULL, updated_at = ?
		WHERE id = ?`, ch.Status, ch.ResolvedInRelease, millis(now), id); err != nil {
		return false, fmt.Errorf("set status of issue %d: %w", id, err)
	}
	return true, recordActivityTx(ctx, tx, projectID, id, Activity{At: now, Actor: ch.Actor, Kind: ActivityStatus,
		From: status, To: ch.Status, Detail: ch.ResolvedInRelease})
}

// SetIssueStatus changes an issue's status on nobody's behalf in particular.
func (d *DB) SetIssueStatus(ctx context.Context, projectID, id int64, status string) error {
	return d.ChangeIssueStatus(ctx, projectID, id, StatusChange{Status: status})
}

// reopenAsRegressionTx reopens a resolved issue a new event arrived for.
func reopenAsRegressionTx(ctx context.Context, tx txRunner, projectID, issueID int64, eventRelease string, now int64) error {
	if _, err := tx.ExecContext(ctx, "UPDATE issues SET status = 'active', resolved_in_release = '', regressed_at = ?, updated_at = ? WHERE id = ?",
		now, now, issueID); err != nil {
		return err
	}
	return recordActivityTx(ctx, tx, projectID, issueID, Activity{At: fromMillis(now), Actor: ActorStacklens,
		Kind: ActivityRegression, From: StatusResolved, To: StatusActive, Detail: eventRelease})
}

// EditIssue renames an issue and changes its description.
func (d *DB) EditIssue(ctx context.Context, projectID, id int64, name, description, actor string) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("edit issue %d: %w", id, err)
	}
	defer tx.Rollback()
	var oldName, oldDesc string
	err = tx.QueryRowContext(ctx, "SELECT name, description FROM issues WHERE project_id = ? AND id = ?", projectID, id).Scan(&oldName, &oldDesc)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("edit issue %d: %w", id, err)
	}
	if oldName == name && oldDesc == description {
		return nil
	}
	now := time.Now()
	if _, err := tx.ExecContext(ctx, "UPDATE issues SET name = ?, description = ?, updated_at = ? WHERE id = ?",
		name, description, millis(now), id); err != nil {
		return fmt.Errorf("edit issue %d: %w", id, err)
	}
	a := Activity{At: now, Actor: actor, Kind: ActivityRename, From: oldName, To: name}
	if oldDesc != description {
		a.Detail = "description"
	}
	if err := recordActivityTx(ctx, tx, projectID, id, a); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("edit issue %d: %w", id, err)
	}
	return nil
}
