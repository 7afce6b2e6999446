package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Users lists everyone who can sign in, by email: the people an issue can be assigned to.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// AssignIssue gives an issue to a user (userID 0: to nobody) and records it
// on the timeline. An unknown user or issue is ErrNotFound.
func (d *DB) AssignIssue(ctx context.Context, projectID, id, userID int64, actor string) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("assign issue %d: %w", id, err)
	}
	defer tx.Rollback()
	var current int64
	var currentEmail string
	err = tx.QueryRowContext(ctx, `SELECT coalesce(i.assignee_id, 0), coalesce(u.email, '') FROM issues i
		LEFT JOIN users u ON u.id = i.assignee_id WHERE i.project_id = ? AND i.id = ?`, projectID, id).Scan(&current, &currentEmail)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("assign issue %d: %w", id, err)
	}
	var email string
	assignee := sql.NullInt64{Int64: userID, Valid: userID != 0}
	if userID != 0 {
		err := tx.QueryRowContext(ctx, "SELECT email FROM users WHERE id = ?", userID).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("assign issue %d to user %d: %w", id, userID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("assign issue %d: %w", id, err)
		}
	}
	if current == userID {
		return nil
	}
	now := time.Now()
	if _, err := tx.ExecContext(ctx, "UPDATE issues SET assignee_id = ?, updated_at = ? WHERE id = ?", assignee, millis(now), id); err != nil {
		return fmt.Errorf("assign issue %d: %w", id, err)
	}
	if err := recordActivityTx(ctx, tx, projectID, id, Activity{At: now, Actor: actor, Kind: ActivityAssignee,
		From: currentEmail, To: email}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("assign issue %d: %w", id, err)
	}
	return nil
}
